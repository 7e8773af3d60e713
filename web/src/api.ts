// The AWS calls behind each page. Every call is made with the app's user-role
// credentials and is one the role allows (docs/security.md, user role).
import { DeleteParameterCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { FilterLogEventsCommand, type FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand } from "@aws-sdk/client-ecs";
import { BatchGetBuildsCommand, ListBuildsForProjectCommand, type Build } from "@aws-sdk/client-codebuild";
import type { AppClients } from "./aws";
import type { Platform, PlatformApp } from "./platform";
import {
  buildTimeline,
  configName,
  deployHistory,
  parseActivity,
  parseStatus,
  processOfStream,
  serviceName,
  type AppStatus,
  type DeployRecord,
  type LogLine,
  type Timeline,
} from "./data";

export async function getStatus(c: AppClients, app: PlatformApp): Promise<AppStatus | undefined> {
  try {
    const out = await c.ssm.send(new GetParameterCommand({ Name: app.statusParameter }));
    return out.Parameter?.Value ? parseStatus(out.Parameter.Value) : undefined;
  } catch (e) {
    if ((e as { name?: string }).name === "ParameterNotFound") return undefined; // never deployed
    throw e;
  }
}

export interface ServiceCounts {
  name: string;
  desired: number;
  running: number;
  pending: number;
  status: string;
}

export async function getServices(c: AppClients, p: Platform, app: PlatformApp, procs: string[]): Promise<ServiceCounts[]> {
  if (procs.length === 0) return [];
  const out = await c.ecs.send(
    new DescribeServicesCommand({ cluster: app.ecsCluster, services: procs.map((pr) => serviceName(p.prefix, app.name, pr)) }),
  );
  return procs.map((pr) => {
    const s = out.services?.find((x) => x.serviceName === serviceName(p.prefix, app.name, pr));
    return { name: pr, desired: s?.desiredCount ?? 0, running: s?.runningCount ?? 0, pending: s?.pendingCount ?? 0, status: s?.status ?? "MISSING" };
  });
}

async function filterAll(c: AppClients, input: ConstructorParameters<typeof FilterLogEventsCommand>[0], maxPages = 5): Promise<FilteredLogEvent[]> {
  const events: FilteredLogEvent[] = [];
  let token: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const out = await c.logs.send(new FilterLogEventsCommand({ ...input, nextToken: token }));
    events.push(...(out.events ?? []));
    token = out.nextToken;
    if (!token) break;
  }
  return events;
}

function notFound(e: unknown): boolean {
  return (e as { name?: string }).name === "ResourceNotFoundException";
}

/** getDeploys reads the last 30 days of the activity log: one FilterLogEvents call for most apps. */
export async function getDeploys(c: AppClients, app: PlatformApp, limit = 10): Promise<DeployRecord[]> {
  try {
    const ev = await filterAll(c, { logGroupName: app.activityLogGroup, startTime: Date.now() - 30 * 86_400_000 });
    return deployHistory(parseActivity(ev.map((e) => e.message)), limit);
  } catch (e) {
    if (notFound(e)) return [];
    throw e;
  }
}

export async function getTimeline(c: AppClients, app: PlatformApp, build: number): Promise<Timeline> {
  let ev: FilteredLogEvent[] = [];
  try {
    ev = await filterAll(c, { logGroupName: app.activityLogGroup, logStreamNames: [`build-${build}`] });
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  return buildTimeline(build, parseActivity(ev.map((e) => e.message)));
}

/** findBuild maps a Wharf build number to its CodeBuild build (newest 100 builds of the project). */
export async function findBuild(c: AppClients, app: PlatformApp, build: number): Promise<Build | undefined> {
  const ids = await c.codebuild.send(new ListBuildsForProjectCommand({ projectName: app.codebuildProject, sortOrder: "DESCENDING" }));
  const list = ids.ids ?? [];
  for (let i = 0; i < list.length; i += 100) {
    const out = await c.codebuild.send(new BatchGetBuildsCommand({ ids: list.slice(i, i + 100) }));
    const b = out.builds?.find((x) => x.buildNumber === build);
    if (b) return b;
  }
  return undefined;
}

export async function getBuildLog(c: AppClients, app: PlatformApp, b: Build): Promise<string[]> {
  const stream = b.logs?.streamName;
  if (!stream) return [];
  try {
    const ev = await filterAll(c, { logGroupName: b.logs?.groupName || app.deployLogGroup, logStreamNames: [stream] }, 10);
    return ev.map((e) => (e.message ?? "").replace(/\n$/, ""));
  } catch (e) {
    if (notFound(e)) return [];
    throw e;
  }
}

export async function getLogs(c: AppClients, app: PlatformApp, opts: { since: number; until?: number; proc?: string }): Promise<LogLine[]> {
  try {
    const ev = await filterAll(c, {
      logGroupName: app.logGroup,
      startTime: opts.since,
      endTime: opts.until,
      logStreamNamePrefix: opts.proc ? `${opts.proc}/` : undefined,
      limit: 1000,
    });
    return ev.map((e) => ({
      id: `${e.logStreamName}:${e.eventId ?? `${e.timestamp}:${e.message}`}`,
      time: e.timestamp ?? 0,
      stream: e.logStreamName ?? "",
      process: processOfStream(e.logStreamName),
      message: (e.message ?? "").replace(/\n$/, ""),
    }));
  } catch (e) {
    if (notFound(e)) return [];
    throw e;
  }
}

export interface ConfigVar {
  name: string;
  value: string;
  version?: number;
  modified?: Date;
}

export async function getConfig(c: AppClients, app: PlatformApp): Promise<ConfigVar[]> {
  const vars: ConfigVar[] = [];
  let token: string | undefined;
  do {
    const out = await c.ssm.send(new GetParametersByPathCommand({ Path: app.configPrefix, WithDecryption: true, Recursive: false, NextToken: token }));
    for (const prm of out.Parameters ?? []) {
      const name = configName(app.configPrefix, prm.Name ?? "");
      if (name) vars.push({ name, value: prm.Value ?? "", version: prm.Version, modified: prm.LastModifiedDate });
    }
    token = out.NextToken;
  } while (token);
  return vars.sort((a, b) => a.name.localeCompare(b.name));
}

export async function setConfig(c: AppClients, app: PlatformApp, name: string, value: string): Promise<void> {
  await c.ssm.send(new PutParameterCommand({ Name: app.configPrefix + name, Value: value, Type: "SecureString", Overwrite: true }));
}

export async function deleteConfig(c: AppClients, app: PlatformApp, name: string): Promise<void> {
  await c.ssm.send(new DeleteParameterCommand({ Name: app.configPrefix + name }));
}

export interface TaskRow {
  id: string;
  process: string;
  lastStatus: string;
  health: string;
  startedAt?: Date;
  build?: string;
}

export async function getTasks(c: AppClients, p: Platform, app: PlatformApp, procs: string[]): Promise<TaskRow[]> {
  const rows: TaskRow[] = [];
  for (const pr of procs) {
    const list = await c.ecs.send(new ListTasksCommand({ cluster: app.ecsCluster, serviceName: serviceName(p.prefix, app.name, pr) }));
    const arns = list.taskArns ?? [];
    if (arns.length === 0) continue;
    const out = await c.ecs.send(new DescribeTasksCommand({ cluster: app.ecsCluster, tasks: arns.slice(0, 100), include: ["TAGS"] }));
    for (const t of out.tasks ?? []) {
      rows.push({
        id: (t.taskArn ?? "").split("/").pop() ?? "",
        process: pr,
        lastStatus: t.lastStatus ?? "",
        health: t.healthStatus ?? "UNKNOWN",
        startedAt: t.startedAt,
        build: t.tags?.find((x) => x.key === "wharf:build")?.value,
      });
    }
  }
  return rows;
}
