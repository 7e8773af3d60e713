import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { useApp, useAsync, useSession } from "../ctx";
import { getLogs, getStatus } from "../api";
import { AppPage, ErrorBox } from "../ui";
import { mergeLogLines, parseSince, type LogLine } from "../data";

const ranges = ["5m", "15m", "1h", "6h", "1d", "7d"];
const pollMs = 2000;

export function LogsPage({ app: name }: { app: string }) {
  const { platform } = useSession();
  const { app, clients } = useApp(name);
  const loc = useLocation();
  const q = loc.query as Record<string, string | undefined>;
  const proc = q.proc ?? "";
  const since = q.since && parseSince(q.since) ? q.since : "1h";
  const follow = q.follow === "1";
  const st = useAsync(async () => (app ? getStatus(clients!, app) : undefined), [name]);
  const procs = [...new Set([...Object.keys(st.data?.processes ?? {}), ...(app?.processes ?? [])])].sort();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const last = useRef(0);
  const bottom = useRef<HTMLDivElement>(null);

  const setQuery = (k: string, v: string) => {
    const params = new URLSearchParams({ ...(q as Record<string, string>), [k]: v });
    for (const [key, val] of [...params.entries()]) if (val === "") params.delete(key);
    loc.route(`/apps/${name}/logs?${params}`, true);
  };

  useEffect(() => {
    if (!app) return;
    let stopped = false;
    setLines([]);
    setError(undefined);
    setLoading(true);
    const start = Date.now() - parseSince(since)!;
    last.current = start;
    const poll = async () => {
      try {
        // Overlap by 5 s: CloudWatch Logs may make events visible late; mergeLogLines drops duplicates.
        const fresh = await getLogs(clients!, app, { since: Math.max(start, last.current - 5000), proc: proc || undefined });
        if (stopped) return;
        if (fresh.length) last.current = Math.max(last.current, ...fresh.map((l) => l.time));
        setLines((have) => mergeLogLines(have, fresh));
        setError(undefined);
      } catch (e) {
        if (!stopped) setError(e as Error);
      } finally {
        if (!stopped) setLoading(false);
      }
    };
    poll();
    const t = follow ? setInterval(poll, pollMs) : undefined;
    return () => {
      stopped = true;
      if (t) clearInterval(t);
    };
  }, [name, proc, since, follow]);

  useEffect(() => {
    if (follow) bottom.current?.scrollIntoView({ block: "end" });
  }, [lines.length, follow]);

  if (!app) return <p role="alert">There is no app named {name} on this platform.</p>;
  void platform;
  return (
    <AppPage app={name} title="Logs">
      <form class="toolbar" onSubmit={(e) => e.preventDefault()} aria-label="Log filters">
        <label>
          Process{" "}
          <select value={proc} onChange={(e) => setQuery("proc", (e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {procs.map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Since{" "}
          <select value={since} onChange={(e) => setQuery("since", (e.target as HTMLSelectElement).value)}>
            {ranges.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setQuery("follow", (e.target as HTMLInputElement).checked ? "1" : "")} /> Follow
        </label>
        <span class="muted small" role="status" aria-live="polite">
          {follow ? `following, every ${pollMs / 1000} s · ` : ""}
          {lines.length} lines
        </span>
      </form>
      {error && <ErrorBox error={error} />}
      <div class="log" role="log" aria-label="Log lines" tabIndex={0}>
        {loading && lines.length === 0 ? (
          <div class="muted">Loading…</div>
        ) : lines.length === 0 ? (
          <div class="muted">No log lines in this range.</div>
        ) : (
          lines.map((l) => (
            <div class="logline" key={l.id}>
              <span class="ts">{new Date(l.time).toISOString().slice(11, 23)}</span> <span class={`proc proc-${l.process}`}>{l.process}</span>{" "}
              <span class="msg">{l.message}</span>
            </div>
          ))
        )}
        <div ref={bottom} />
      </div>
    </AppPage>
  );
}
