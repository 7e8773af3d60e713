import { useSession, useApp, useAsync, isNoAccess } from "../ctx";
import { getStatus } from "../api";
import { PhaseBadge, Time } from "../ui";
import type { PlatformApp } from "../platform";

function AppRow({ app }: { app: PlatformApp }) {
  const { clients } = useApp(app.name);
  const st = useAsync(() => getStatus(clients!, app), [app.name]);
  const denied = st.error && isNoAccess(st.error);
  return (
    <tr data-app={app.name} class={denied ? "row-denied" : undefined}>
      <th scope="row">{denied ? <span>{app.name}</span> : <a href={`/apps/${app.name}`}>{app.name}</a>}</th>
      <td>
        {st.loading ? (
          <span class="muted">checking…</span>
        ) : denied ? (
          <PhaseBadge phase="no access" />
        ) : st.error ? (
          <span class="error-text" title={st.error.message}>
            unreachable
          </span>
        ) : (
          <PhaseBadge phase={st.data?.phase ?? ""} />
        )}
      </td>
      <td>{st.data?.deployed ? `#${st.data.deployed.build}` : <span class="muted">–</span>}</td>
      <td>{st.data?.deployed ? <Time at={st.data.deployed.at} /> : <span class="muted">–</span>}</td>
      <td>
        {app.url ? (
          <a href={app.url} rel="noreferrer noopener" target="_blank">
            {app.url.replace(/^https?:\/\//, "")}
          </a>
        ) : (
          <span class="muted">–</span>
        )}
      </td>
      <td class="muted">{app.region}</td>
    </tr>
  );
}

export function AppsPage() {
  const { platform } = useSession();
  return (
    <>
      <h1>Apps</h1>
      {platform.apps.length === 0 ? (
        <p>No apps are configured on this platform yet.</p>
      ) : (
        <table class="table" aria-label="Apps">
          <thead>
            <tr>
              <th scope="col">App</th>
              <th scope="col">Status</th>
              <th scope="col">Deployed build</th>
              <th scope="col">Deployed at</th>
              <th scope="col">URL</th>
              <th scope="col">Region</th>
            </tr>
          </thead>
          <tbody>
            {platform.apps.map((a) => (
              <AppRow key={a.name} app={a} />
            ))}
          </tbody>
        </table>
      )}
      <p class="muted small">
        An app shows <em>no access</em> when AWS refuses your sign-in for its role: your email is not among its allowed users.
      </p>
    </>
  );
}
