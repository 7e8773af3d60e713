// Pure data layer: decoding the documents the control plane publishes and
// turning them into what the pages show. No AWS calls here (see api.ts), so
// all of it is unit-tested in data.test.ts.

export type Phase = "building" | "releasing" | "deploying" | "deployed" | "failed" | "";

/** The app status document (SSM String parameter /<prefix>/apps/<app>/status). */
export interface AppStatus {
  version: number;
  app: string;
  phase: Phase;
  build?: number;
  commit?: string;
  op?: { kind: string; build?: number; step?: string; since?: string; started?: string };
  reason?: string;
  detail?: string;
  deployed?: { build: number; commit?: string; at?: string };
  processes: Record<string, { desired: number }>;
  updatedAt?: string;
}

const phases: Phase[] = ["building", "releasing", "deploying", "deployed", "failed", ""];

/** parseStatus decodes the status document; it throws naming the bad field. */
export function parseStatus(text: string): AppStatus {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error("status: not JSON");
  }
  if (typeof raw !== "object" || raw === null) throw new Error("status: not an object");
  const s = raw as Record<string, unknown>;
  if (s.version !== 1) throw new Error(`status: unsupported version ${JSON.stringify(s.version)}`);
  const phase = (s.phase ?? "") as Phase;
  if (!phases.includes(phase)) throw new Error(`status: unknown phase ${JSON.stringify(s.phase)}`);
  const processes: AppStatus["processes"] = {};
  if (s.processes !== undefined) {
    if (typeof s.processes !== "object" || s.processes === null) throw new Error("status: processes must be an object");
    for (const [name, v] of Object.entries(s.processes as Record<string, unknown>)) {
      const d = (v as { desired?: unknown })?.desired;
      if (typeof d !== "number" || d < 0 || !Number.isInteger(d)) throw new Error(`status: processes.${name}.desired must be a whole number`);
      processes[name] = { desired: d };
    }
  }
  return { ...(s as unknown as AppStatus), phase, processes };
}

/** One event of the activity log (group /<prefix>/apps/<app>/activity). */
export interface ActivityEvent {
  time: string;
  app: string;
  build: number;
  commit?: string;
  kind?: string;
  event: "phase" | "step" | "deploy" | string;
  phase?: string;
  step?: string;
  outcome?: "deployed" | "failed" | "skipped" | "";
  reason?: string;
  detail?: string;
}

/** parseActivity decodes log event messages, skipping lines that are not activity events (never throwing on one bad line). */
export function parseActivity(messages: (string | undefined)[]): ActivityEvent[] {
  const out: ActivityEvent[] = [];
  for (const m of messages) {
    if (!m) continue;
    try {
      const e = JSON.parse(m) as ActivityEvent;
      if (typeof e === "object" && e !== null && typeof e.build === "number" && typeof e.event === "string") out.push(e);
    } catch {
      /* not an activity event */
    }
  }
  return out;
}

export type StageState = "pending" | "active" | "done" | "failed" | "skipped";

export interface Stage {
  key: "build" | "release" | "services" | "result";
  label: string;
  state: StageState;
  at?: string;
  detail?: string;
}

export interface Timeline {
  build: number;
  commit?: string;
  kind?: string;
  stages: Stage[];
  outcome: "deployed" | "failed" | "skipped" | "running";
  reason?: string;
  detail?: string;
  events: ActivityEvent[];
}

// Which stage an activity event belongs to.
function stageOf(e: ActivityEvent): Stage["key"] | undefined {
  if (e.event === "deploy") return "result";
  const v = e.event === "step" ? e.step : e.phase;
  switch (v) {
    case "building":
      return "build";
    case "releasing":
    case "register":
    case "release":
      return "release";
    case "deploying":
    case "services":
    case "rollout":
    case "rollback":
      return "services";
    case "deployed":
    case "failed":
      return "result";
  }
  return undefined;
}

/**
 * buildTimeline turns the events of one build's activity stream into the
 * build → release → services → result stages. Events may arrive out of order
 * (they are sorted by time); a stage is done once a later stage started, and
 * the failing stage is the last one that started before the failure.
 */
export function buildTimeline(build: number, all: ActivityEvent[]): Timeline {
  const events = all.filter((e) => e.build === build).sort((a, b) => a.time.localeCompare(b.time));
  const order: Stage["key"][] = ["build", "release", "services", "result"];
  const labels: Record<Stage["key"], string> = { build: "Build", release: "Release", services: "Services", result: "Deployed" };
  const started: Partial<Record<Stage["key"], ActivityEvent>> = {};
  let final: ActivityEvent | undefined;
  for (const e of events) {
    const terminal = e.event === "deploy" || e.phase === "deployed" || e.phase === "failed" || !!e.outcome;
    if (terminal) final = e;
    const k = stageOf(e);
    if (k && k !== "result" && !started[k]) started[k] = e;
  }
  const outcome: Timeline["outcome"] =
    final?.outcome === "failed" || final?.phase === "failed"
      ? "failed"
      : final?.outcome === "skipped"
        ? "skipped"
        : final?.outcome === "deployed" || final?.phase === "deployed"
          ? "deployed"
          : "running";
  let lastStarted = -1;
  order.forEach((k, i) => {
    if (k !== "result" && started[k]) lastStarted = i;
  });
  const stages: Stage[] = order.map((k, i) => {
    if (k === "result") {
      const state: StageState = outcome === "running" ? "pending" : outcome === "deployed" ? "done" : outcome === "failed" ? "failed" : "skipped";
      return { key: k, label: outcome === "failed" ? "Failed" : outcome === "skipped" ? "Skipped" : labels[k], state, at: final?.time, detail: final?.detail };
    }
    const ev = started[k];
    let state: StageState;
    if (!ev) state = i < lastStarted || outcome === "deployed" ? "skipped" : "pending";
    else if (i < lastStarted) state = "done";
    else if (outcome === "failed") state = "failed";
    else if (outcome === "running") state = "active";
    else state = "done";
    return { key: k, label: labels[k], state, at: ev?.time };
  });
  return {
    build,
    commit: events.find((e) => e.commit)?.commit,
    kind: events.find((e) => e.kind)?.kind,
    stages,
    outcome,
    reason: final?.reason || undefined,
    detail: final?.detail || undefined,
    events,
  };
}

export interface DeployRecord {
  build: number;
  commit?: string;
  kind?: string;
  outcome: string;
  reason?: string;
  at: string;
}

/** deployHistory: the last "deploy" event of each build, newest first. */
export function deployHistory(events: ActivityEvent[], limit = 10): DeployRecord[] {
  const last = new Map<number, ActivityEvent>();
  for (const e of events) {
    if (e.event !== "deploy") continue;
    const prev = last.get(e.build);
    if (!prev || prev.time <= e.time) last.set(e.build, e);
  }
  return [...last.values()]
    .sort((a, b) => b.time.localeCompare(a.time) || b.build - a.build)
    .slice(0, limit)
    .map((e) => ({ build: e.build, commit: e.commit, kind: e.kind, outcome: e.outcome || "", reason: e.reason || undefined, at: e.time }));
}

/** Config variable names: what Wharf's CLI accepts (a POSIX environment variable name). */
export function validateConfigName(name: string): string | undefined {
  if (name === "") return "Name is required.";
  if (name.length > 200) return "Name is at most 200 characters.";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return "Name must start with a letter or _ and contain only letters, digits and _.";
  return undefined;
}

/** configName strips the app's config prefix from a parameter name. */
export function configName(prefix: string, parameterName: string): string | undefined {
  if (!parameterName.startsWith(prefix)) return undefined;
  const rest = parameterName.slice(prefix.length);
  return rest === "" || rest.includes("/") ? undefined : rest;
}

/** mask replaces a value with bullets of a fixed length, so the length does not leak. */
export function mask(): string {
  return "••••••••";
}

/** parseSince turns "15m", "2h", "1d" into milliseconds; undefined if malformed. */
export function parseSince(s: string): number | undefined {
  const m = /^(\d{1,4})([smhd])$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  const ms = n * unit;
  return ms > 0 && ms <= 30 * 86_400_000 ? ms : undefined;
}

/** processOfStream: container log streams are named <proc>/<container>/<task id>. */
export function processOfStream(stream: string | undefined): string {
  if (!stream) return "";
  const i = stream.indexOf("/");
  return i < 0 ? stream : stream.slice(0, i);
}

export interface LogLine {
  id: string;
  time: number;
  stream: string;
  process: string;
  message: string;
}

/** mergeLogLines appends new lines, dropping ones already shown (polling overlaps by design), keeping time order and at most max lines. */
export function mergeLogLines(have: LogLine[], incoming: LogLine[], max = 2000): LogLine[] {
  const seen = new Set(have.map((l) => l.id));
  const fresh = incoming.filter((l) => !seen.has(l.id));
  if (fresh.length === 0) return have;
  const all = [...have, ...fresh].sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
  return all.length > max ? all.slice(all.length - max) : all;
}

/** phaseLabel is the human text for a phase. */
export function phaseLabel(p: Phase): string {
  return p === "" ? "idle" : p;
}

/** relativeTime renders an RFC 3339 time relative to now ("3 min ago"). */
export function relativeTime(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** serviceName is the ECS service of an app's process (conventions.md: <prefix>-<app>_<proc>). */
export function serviceName(prefix: string, app: string, proc: string): string {
  return `${prefix}-${app}_${proc}`;
}

/** roleSessionName: STS allows [\w+=,.@-]{2,64}; the email, sanitised. */
export function roleSessionName(email: string | undefined): string {
  const s = (email || "wharf-dashboard").replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return s.length >= 2 ? s : "wharf-dashboard";
}
