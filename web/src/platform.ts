// The platform descriptor (/platform.json), mirrored from contract/platform.go
// (see docs/conventions.md and SHARED-SCHEMAS.md). Fields may be added by the
// platform; unknown fields are ignored, missing required ones are an error.

export interface PlatformApp {
  name: string;
  accountId: string;
  region: string;
  cluster: string;
  url?: string;
  /** Absent when the app has no allowed users (and so no user role). */
  userRoleArn?: string;
  logGroup: string;
  deployLogGroup: string;
  activityLogGroup: string;
  statusParameter: string;
  configPrefix: string;
  codebuildProject: string;
  ecsCluster: string;
  processes?: string[];
}

/** AWS service endpoints, keyed by service. Only for local fakes (sandbox and tests); in AWS the SDK derives them from the region. */
export type Endpoints = Partial<Record<"sts" | "ssm" | "logs" | "ecs" | "codebuild", string>>;

export interface Platform {
  version: number;
  prefix: string;
  issuer: string;
  clientId: string;
  dashboardClientId?: string;
  region: string;
  accountId: string;
  adminRoleArn?: string;
  apps: PlatformApp[];
  endpoints?: Endpoints;
}

export class PlatformError extends Error {}

const appStringFields: (keyof PlatformApp)[] = [
  "name",
  "accountId",
  "region",
  "logGroup",
  "deployLogGroup",
  "activityLogGroup",
  "statusParameter",
  "configPrefix",
  "codebuildProject",
  "ecsCluster",
];

/** parsePlatform checks a decoded platform.json and names the first bad field. */
export function parsePlatform(raw: unknown): Platform {
  if (typeof raw !== "object" || raw === null) throw new PlatformError("platform.json: not a JSON object");
  const p = raw as Record<string, unknown>;
  if (p.version !== 1) throw new PlatformError(`platform.json: version must be 1, got ${JSON.stringify(p.version)}`);
  for (const f of ["prefix", "issuer", "clientId", "region"]) {
    if (typeof p[f] !== "string" || p[f] === "") throw new PlatformError(`platform.json: ${f} must be a non-empty string`);
  }
  let issuer: URL;
  try {
    issuer = new URL(p.issuer as string);
  } catch {
    throw new PlatformError("platform.json: issuer must be a URL");
  }
  const local = issuer.hostname === "127.0.0.1" || issuer.hostname === "localhost";
  if (issuer.protocol !== "https:" && !(local && issuer.protocol === "http:")) {
    throw new PlatformError("platform.json: issuer must use https");
  }
  if (!Array.isArray(p.apps)) throw new PlatformError("platform.json: apps must be a list");
  const names = new Set<string>();
  const apps = p.apps.map((a, i) => {
    if (typeof a !== "object" || a === null) throw new PlatformError(`platform.json: apps[${i}] is not an object`);
    const app = a as Record<string, unknown>;
    for (const f of appStringFields) {
      if (typeof app[f] !== "string" || app[f] === "") {
        throw new PlatformError(`platform.json: apps[${i}].${f} must be a non-empty string`);
      }
    }
    if (!/^[a-z][a-z0-9-]*$/.test(app.name as string)) {
      throw new PlatformError(`platform.json: apps[${i}].name ${JSON.stringify(app.name)} is not a valid app name`);
    }
    if (names.has(app.name as string)) throw new PlatformError(`platform.json: app ${app.name} is listed twice`);
    names.add(app.name as string);
    if (!(app.configPrefix as string).endsWith("/")) {
      throw new PlatformError(`platform.json: apps[${i}].configPrefix must end with /`);
    }
    for (const f of ["url", "userRoleArn", "cluster"] as const) {
      if (app[f] !== undefined && typeof app[f] !== "string") throw new PlatformError(`platform.json: apps[${i}].${f} must be a string`);
    }
    return { cluster: "", ...app } as unknown as PlatformApp;
  });
  apps.sort((x, y) => x.name.localeCompare(y.name));
  return { ...(p as unknown as Platform), apps };
}

/** loadPlatform fetches /platform.json from the site's own origin. */
export async function loadPlatform(fetchFn: typeof fetch = fetch): Promise<Platform> {
  const res = await fetchFn("/platform.json", { cache: "no-cache" });
  if (!res.ok) throw new PlatformError(`platform.json: HTTP ${res.status}`);
  return parsePlatform(await res.json());
}

/** dashboardClientId is the OIDC client the browser signs in with. */
export function dashboardClientId(p: Platform): string {
  return p.dashboardClientId || p.clientId;
}
