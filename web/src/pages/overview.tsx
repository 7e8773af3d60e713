import { useEffect } from "preact/hooks";
import { useApp, useAsync, useSession } from "../ctx";
import { getDeploys, getServices, getStatus } from "../api";
import { AppPage, ErrorBox, Loading, PhaseBadge, Time } from "../ui";
import { relativeTime } from "../data";

export function OverviewPage({ app: name }: { app: string }) {
  const { platform } = useSession();
  const { app, clients } = useApp(name);
  const st = useAsync(async () => (app ? getStatus(clients!, app) : undefined), [name]);
  const procs = Object.keys(st.data?.processes ?? {}).sort();
  const svc = useAsync(async () => (app && procs.length ? getServices(clients!, platform, app, procs) : []), [name, procs.join(",")]);
  const deploys = useAsync(async () => (app ? getDeploys(clients!, app) : []), [name]);
  const busy = !!st.data && ["building", "releasing", "deploying"].includes(st.data.phase);
  // While something is in flight, refresh every 5 s.
  useEffect(() => {
    if (!busy) return;
    const t = setInterval(() => {
      st.reload();
      svc.reload();
      deploys.reload();
    }, 5000);
    return () => clearInterval(t);
  }, [busy]);
  if (!app) return <p role="alert">There is no app named {name} on this platform.</p>;
  if (st.error) return <AppPage app={name} title="Overview"><ErrorBox error={st.error} /></AppPage>;
  const s = st.data;
  return (
    <AppPage app={name} title="Overview">
      {st.loading && !s ? (
        <Loading what="status" />
      ) : !s ? (
        <p class="notice">This app has no published status yet: it has never been built.</p>
      ) : (
        <section class="cards" aria-label="Status">
          <div class="card">
            <h2>Status</h2>
            <p class="big">
              <PhaseBadge phase={s.phase} />
            </p>
            {s.op && (
              <p>
                {s.op.kind} of <a href={`/apps/${name}/deploys/${s.op.build ?? s.build}`}>build #{s.op.build ?? s.build}</a>
                {s.op.step ? `, step ${s.op.step}` : ""} since {relativeTime(s.op.since)}
              </p>
            )}
            {s.phase === "failed" && (
              <p class="error-text">
                {s.reason}: {s.detail}
              </p>
            )}
            <p class="muted small">updated <Time at={s.updatedAt} /></p>
          </div>
          <div class="card">
            <h2>Current build</h2>
            {s.build ? (
              <p class="big">
                <a href={`/apps/${name}/deploys/${s.build}`}>#{s.build}</a> <code>{(s.commit ?? "").slice(0, 12)}</code>
              </p>
            ) : (
              <p class="muted">none</p>
            )}
            <h2>Deployed</h2>
            {s.deployed ? (
              <p>
                <a href={`/apps/${name}/deploys/${s.deployed.build}`}>#{s.deployed.build}</a> <code>{(s.deployed.commit ?? "").slice(0, 12)}</code>{" "}
                <span class="muted">{relativeTime(s.deployed.at)}</span>
              </p>
            ) : (
              <p class="muted">never</p>
            )}
          </div>
          <div class="card">
            <h2>URL</h2>
            <p>
              {app.url ? (
                <a href={app.url} target="_blank" rel="noreferrer noopener">
                  {app.url}
                </a>
              ) : (
                <span class="muted">none</span>
              )}
            </p>
            <p class="muted small">
              {app.region} · cluster {app.cluster || app.ecsCluster}
            </p>
          </div>
        </section>
      )}
      <h2>Processes</h2>
      {svc.error ? (
        <ErrorBox error={svc.error} />
      ) : procs.length === 0 ? (
        <p class="muted">No processes declared.</p>
      ) : (
        <table class="table" aria-label="Processes">
          <thead>
            <tr>
              <th scope="col">Process</th>
              <th scope="col">Desired</th>
              <th scope="col">Running</th>
              <th scope="col">Pending</th>
            </tr>
          </thead>
          <tbody>
            {procs.map((pr) => {
              const row = svc.data?.find((x) => x.name === pr);
              return (
                <tr>
                  <th scope="row">{pr}</th>
                  <td>{s?.processes[pr]?.desired ?? row?.desired ?? "–"}</td>
                  <td>{row ? row.running : "…"}</td>
                  <td>{row ? row.pending : "…"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h2>Last deploys</h2>
      {deploys.error ? (
        <ErrorBox error={deploys.error} />
      ) : deploys.loading && !deploys.data ? (
        <Loading what="deploys" />
      ) : deploys.data && deploys.data.length ? (
        <table class="table" aria-label="Last deploys">
          <thead>
            <tr>
              <th scope="col">Build</th>
              <th scope="col">Commit</th>
              <th scope="col">Kind</th>
              <th scope="col">Outcome</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {deploys.data.map((d) => (
              <tr>
                <th scope="row">
                  <a href={`/apps/${name}/deploys/${d.build}`}>#{d.build}</a>
                </th>
                <td>
                  <code>{(d.commit ?? "").slice(0, 12)}</code>
                </td>
                <td>{d.kind ?? ""}</td>
                <td>
                  <span class={`outcome outcome-${d.outcome}`}>{d.outcome}</span>
                  {d.reason ? <span class="muted"> ({d.reason})</span> : null}
                </td>
                <td>
                  <Time at={d.at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">No deploys in the last 30 days.</p>
      )}
    </AppPage>
  );
}
