import { useApp, useAsync, useSession } from "../ctx";
import { getServices, getStatus, getTasks } from "../api";
import { AppPage, ErrorBox, Loading, Time } from "../ui";

export function ProcessesPage({ app: name }: { app: string }) {
  const { platform } = useSession();
  const { app, clients } = useApp(name);
  const data = useAsync(async () => {
    if (!app) return undefined;
    const st = await getStatus(clients!, app);
    const procs = [...new Set([...Object.keys(st?.processes ?? {}), ...(app.processes ?? [])])].sort();
    const [services, tasks] = await Promise.all([getServices(clients!, platform, app, procs), getTasks(clients!, platform, app, procs)]);
    return { services, tasks };
  }, [name]);
  if (!app) return <p role="alert">There is no app named {name} on this platform.</p>;
  return (
    <AppPage app={name} title="Processes">
      <p class="muted small">
        Scaling and restarting are not in the dashboard yet: the count declared in <code>wharf.json</code> is the only source of scale, and the user role may not restart
        services.
      </p>
      {data.error ? (
        <ErrorBox error={data.error} />
      ) : !data.data ? (
        <Loading what="processes" />
      ) : (
        <>
          <table class="table" aria-label="Services">
            <thead>
              <tr>
                <th scope="col">Process</th>
                <th scope="col">Service</th>
                <th scope="col">Desired</th>
                <th scope="col">Running</th>
                <th scope="col">Pending</th>
              </tr>
            </thead>
            <tbody>
              {data.data.services.map((s) => (
                <tr>
                  <th scope="row">{s.name}</th>
                  <td>{s.status.toLowerCase()}</td>
                  <td>{s.desired}</td>
                  <td>{s.running}</td>
                  <td>{s.pending}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Tasks</h2>
          {data.data.tasks.length === 0 ? (
            <p class="muted">No tasks are running.</p>
          ) : (
            <table class="table" aria-label="Tasks">
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">Process</th>
                  <th scope="col">Status</th>
                  <th scope="col">Health</th>
                  <th scope="col">Build</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {data.data.tasks.map((t) => (
                  <tr>
                    <th scope="row">
                      <code title={t.id}>{t.id}</code>
                    </th>
                    <td>{t.process}</td>
                    <td>{t.lastStatus.toLowerCase()}</td>
                    <td>{t.health.toLowerCase()}</td>
                    <td>{t.build ? <a href={`/apps/${name}/deploys/${t.build}`}>#{t.build}</a> : "–"}</td>
                    <td>
                      <Time at={t.startedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </AppPage>
  );
}
