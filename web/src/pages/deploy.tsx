import { useEffect } from "preact/hooks";
import { useApp, useAsync } from "../ctx";
import { findBuild, getBuildLog, getTimeline } from "../api";
import { AppPage, ErrorBox, Loading, Time } from "../ui";

const stateText = { pending: "pending", active: "in progress", done: "done", failed: "failed", skipped: "skipped" };

export function DeployPage({ app: name, build }: { app: string; build: string }) {
  const { app, clients } = useApp(name);
  const n = Number(build);
  const valid = Number.isInteger(n) && n > 0;
  const tl = useAsync(async () => (app && valid ? getTimeline(clients!, app, n) : undefined), [name, n]);
  const running = tl.data?.outcome === "running";
  const log = useAsync(async () => {
    if (!app || !valid) return undefined;
    const b = await findBuild(clients!, app, n);
    return b ? { build: b, lines: await getBuildLog(clients!, app, b) } : undefined;
  }, [name, n]);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => {
      tl.reload();
      log.reload();
    }, 3000);
    return () => clearInterval(t);
  }, [running]);
  if (!app) return <p role="alert">There is no app named {name} on this platform.</p>;
  if (!valid) return <p role="alert">{build} is not a build number.</p>;
  const t = tl.data;
  return (
    <AppPage app={name} title={`Build #${n}`}>
      {tl.error ? (
        <ErrorBox error={tl.error} />
      ) : !t ? (
        <Loading what="timeline" />
      ) : (
        <>
          <p>
            {t.kind ? `${t.kind} · ` : ""}commit <code>{(t.commit ?? "unknown").slice(0, 12)}</code> ·{" "}
            <span class={`outcome outcome-${t.outcome}`} data-testid="outcome">
              {t.outcome === "running" ? "in progress" : t.outcome}
            </span>
          </p>
          {t.events.length === 0 && <p class="muted">No activity recorded for this build yet.</p>}
          <ol class="timeline" aria-label="Deploy timeline">
            {t.stages.map((s) => (
              <li class={`stage stage-${s.state}`} data-stage={s.key} data-state={s.state}>
                <span class="dot" aria-hidden="true" />
                <span class="stage-label">{s.label}</span>
                <span class="stage-state">{stateText[s.state]}</span>
                <span class="stage-time">{s.at ? <Time at={s.at} /> : null}</span>
              </li>
            ))}
          </ol>
          {t.outcome === "failed" && (
            <div class="notice notice-error" role="alert" data-testid="failure">
              <strong>Failed{t.reason ? `: ${t.reason}` : ""}.</strong> {t.detail}
            </div>
          )}
        </>
      )}
      <h2>Build log</h2>
      {log.error ? (
        <ErrorBox error={log.error} />
      ) : log.loading && !log.data ? (
        <Loading what="build log" />
      ) : !log.data ? (
        <p class="muted">No CodeBuild build #{n} among the project's recent builds.</p>
      ) : (
        <>
          <p class="muted small">
            CodeBuild {log.data.build.buildStatus?.toLowerCase()} · phase {log.data.build.currentPhase?.toLowerCase()} · started{" "}
            <Time at={log.data.build.startTime} />
          </p>
          <pre class="log" tabIndex={0} aria-label="Build log">
            {log.data.lines.length ? log.data.lines.join("\n") : "(no output yet)"}
          </pre>
        </>
      )}
    </AppPage>
  );
}
