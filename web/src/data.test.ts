import { describe, expect, it } from "vitest";
import {
  buildTimeline,
  configName,
  deployHistory,
  mergeLogLines,
  parseActivity,
  parseSince,
  parseStatus,
  processOfStream,
  relativeTime,
  roleSessionName,
  validateConfigName,
  type ActivityEvent,
} from "./data";
import { parsePlatform } from "./platform";

const ev = (o: Partial<ActivityEvent>): ActivityEvent => ({ time: "2026-12-01T10:00:00Z", app: "api", build: 42, event: "phase", ...o });

describe("parseStatus", () => {
  it("decodes the published document", () => {
    const s = parseStatus(
      JSON.stringify({ version: 1, app: "api", phase: "deployed", build: 42, commit: "0123abcd", deployed: { build: 42, commit: "0123abcd", at: "2026-12-01T10:00:00Z" }, processes: { web: { desired: 2 } } }),
    );
    expect(s.phase).toBe("deployed");
    expect(s.processes.web.desired).toBe(2);
    expect(s.deployed?.build).toBe(42);
  });
  it("treats a missing phase as idle and missing processes as none", () => {
    const s = parseStatus('{"version":1,"app":"api"}');
    expect(s.phase).toBe("");
    expect(s.processes).toEqual({});
  });
  it("rejects unknown versions, phases and bad counts, naming the field", () => {
    expect(() => parseStatus('{"version":2}')).toThrow(/version/);
    expect(() => parseStatus('{"version":1,"phase":"exploding"}')).toThrow(/phase/);
    expect(() => parseStatus('{"version":1,"processes":{"web":{"desired":-1}}}')).toThrow(/processes.web.desired/);
    expect(() => parseStatus("not json")).toThrow(/JSON/);
  });
});

describe("buildTimeline", () => {
  it("walks build → release → services → deployed", () => {
    const t = buildTimeline(42, [
      ev({ time: "2026-12-01T10:03:00Z", event: "deploy", outcome: "deployed" }),
      ev({ time: "2026-12-01T10:00:00Z", phase: "building" }),
      ev({ time: "2026-12-01T10:01:00Z", phase: "releasing" }),
      ev({ time: "2026-12-01T10:02:00Z", phase: "deploying" }),
      ev({ build: 41, phase: "failed", outcome: "failed" }),
    ]);
    expect(t.outcome).toBe("deployed");
    expect(t.stages.map((s) => s.state)).toEqual(["done", "done", "done", "done"]);
    expect(t.events).toHaveLength(4);
  });
  it("marks the stage that failed and keeps the reason", () => {
    const t = buildTimeline(7, [
      ev({ build: 7, time: "2026-12-01T10:00:00Z", phase: "building" }),
      ev({ build: 7, time: "2026-12-01T10:01:00Z", phase: "releasing" }),
      ev({ build: 7, time: "2026-12-01T10:02:00Z", event: "deploy", phase: "failed", outcome: "failed", reason: "ReleaseFailed", detail: "exit 1" }),
    ]);
    expect(t.outcome).toBe("failed");
    expect(t.stages.map((s) => `${s.key}:${s.state}`)).toEqual(["build:done", "release:failed", "services:pending", "result:failed"]);
    expect(t.reason).toBe("ReleaseFailed");
    expect(t.detail).toBe("exit 1");
  });
  it("shows the running stage as active and skips stages a config change does not run", () => {
    const t = buildTimeline(9, [ev({ build: 9, kind: "config", event: "step", step: "services" })]);
    expect(t.outcome).toBe("running");
    expect(t.kind).toBe("config");
    expect(t.stages.map((s) => s.state)).toEqual(["skipped", "skipped", "active", "pending"]);
  });
  it("is empty and running for a build with no events", () => {
    const t = buildTimeline(1, []);
    expect(t.outcome).toBe("running");
    expect(t.stages.every((s) => s.state === "pending")).toBe(true);
  });
});

describe("activity and history", () => {
  it("skips lines that are not activity events", () => {
    expect(parseActivity(["{", undefined, '{"build":"x","event":"phase"}', JSON.stringify(ev({}))])).toHaveLength(1);
  });
  it("keeps the last deploy event of each build, newest first", () => {
    const h = deployHistory([
      ev({ build: 1, time: "2026-12-01T09:00:00Z", event: "deploy", outcome: "deployed" }),
      ev({ build: 2, time: "2026-12-01T10:00:00Z", event: "deploy", outcome: "failed", reason: "HealthCheck" }),
      ev({ build: 2, time: "2026-12-01T11:00:00Z", event: "deploy", outcome: "deployed", kind: "rollback" }),
      ev({ build: 3, time: "2026-12-01T12:00:00Z", phase: "building" }),
    ]);
    expect(h.map((d) => `${d.build}:${d.outcome}`)).toEqual(["2:deployed", "1:deployed"]);
    expect(h[0].kind).toBe("rollback");
  });
});

describe("config", () => {
  it("accepts environment variable names only", () => {
    expect(validateConfigName("DATABASE_URL")).toBeUndefined();
    expect(validateConfigName("_X1")).toBeUndefined();
    expect(validateConfigName("")).toMatch(/required/);
    expect(validateConfigName("1X")).toMatch(/start/);
    expect(validateConfigName("A-B")).toMatch(/only/);
    expect(validateConfigName("../other/config/X")).toMatch(/only/);
  });
  it("strips the prefix and refuses nested or foreign names", () => {
    expect(configName("/wharf/apps/api/config/", "/wharf/apps/api/config/FOO")).toBe("FOO");
    expect(configName("/wharf/apps/api/config/", "/wharf/apps/api/config/a/b")).toBeUndefined();
    expect(configName("/wharf/apps/api/config/", "/wharf/apps/web/config/FOO")).toBeUndefined();
  });
});

describe("logs", () => {
  it("parses time ranges within 30 days", () => {
    expect(parseSince("15m")).toBe(900_000);
    expect(parseSince("2h")).toBe(7_200_000);
    expect(parseSince("31d")).toBeUndefined();
    expect(parseSince("0m")).toBeUndefined();
    expect(parseSince("1y")).toBeUndefined();
  });
  it("names the process from the stream", () => {
    expect(processOfStream("web/app/abc123")).toBe("web");
    expect(processOfStream("release")).toBe("release");
    expect(processOfStream(undefined)).toBe("");
  });
  it("merges overlapping polls without duplicates, in time order, bounded", () => {
    const l = (id: string, time: number) => ({ id, time, stream: "web/a/1", process: "web", message: id });
    const a = mergeLogLines([], [l("b", 2), l("a", 1)]);
    expect(a.map((x) => x.id)).toEqual(["a", "b"]);
    const b = mergeLogLines(a, [l("b", 2), l("c", 3)]);
    expect(b.map((x) => x.id)).toEqual(["a", "b", "c"]);
    expect(mergeLogLines(a, [l("a", 1)])).toBe(a);
    expect(mergeLogLines(b, [l("d", 4)], 2).map((x) => x.id)).toEqual(["c", "d"]);
  });
});

describe("misc", () => {
  it("sanitises the role session name", () => {
    expect(roleSessionName("alice@example.com")).toBe("alice@example.com");
    expect(roleSessionName("a b/c")).toBe("a-b-c");
    expect(roleSessionName(undefined)).toBe("wharf-dashboard");
    expect(roleSessionName("x".repeat(80))).toHaveLength(64);
  });
  it("renders relative times", () => {
    const now = Date.parse("2026-12-01T10:00:00Z");
    expect(relativeTime("2026-12-01T09:58:00Z", now)).toBe("2 min ago");
    expect(relativeTime(undefined, now)).toBe("");
  });
});

describe("parsePlatform", () => {
  const app = {
    name: "api",
    accountId: "111122223333",
    region: "eu-west-1",
    cluster: "main",
    url: "https://api.example.com",
    userRoleArn: "arn:aws:iam::111122223333:role/wharf-app-api-user",
    logGroup: "/wharf/apps/api",
    deployLogGroup: "/wharf/apps/api/deploys",
    activityLogGroup: "/wharf/apps/api/activity",
    statusParameter: "/wharf/apps/api/status",
    configPrefix: "/wharf/apps/api/config/",
    codebuildProject: "wharf-api",
    ecsCluster: "wharf-main",
  };
  const base = { version: 1, prefix: "wharf", issuer: "https://login.example.com", clientId: "wharf-cli", region: "eu-west-1", accountId: "111122223333", apps: [app] };
  it("accepts the descriptor and sorts apps", () => {
    const p = parsePlatform({ ...base, apps: [{ ...app, name: "zed" }, app], extra: true });
    expect(p.apps.map((a) => a.name)).toEqual(["api", "zed"]);
  });
  it("names the bad field", () => {
    expect(() => parsePlatform({ ...base, version: 2 })).toThrow(/version/);
    expect(() => parsePlatform({ ...base, issuer: "http://login.example.com" })).toThrow(/https/);
    expect(() => parsePlatform({ ...base, apps: [{ ...app, logGroup: "" }] })).toThrow(/apps\[0\].logGroup/);
    expect(() => parsePlatform({ ...base, apps: [{ ...app, userRoleArn: 7 }] })).toThrow(/apps\[0\].userRoleArn/);
    expect(() => parsePlatform({ ...base, apps: [app, app] })).toThrow(/twice/);
    expect(() => parsePlatform({ ...base, apps: [{ ...app, configPrefix: "/x" }] })).toThrow(/configPrefix/);
  });
  it("accepts an app without a user role or URL (no allowed users)", () => {
    const { userRoleArn: _r, url: _u, ...bare } = app;
    expect(parsePlatform({ ...base, apps: [bare] }).apps[0].userRoleArn).toBeUndefined();
  });
  it("allows http only for a loopback issuer (local fakes)", () => {
    expect(parsePlatform({ ...base, issuer: "http://127.0.0.1:5556" }).issuer).toBe("http://127.0.0.1:5556");
  });
});
