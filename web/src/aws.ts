// AWS clients per app. Each app's credentials come from its user role via
// sts:AssumeRoleWithWebIdentity with the user's ID token; nothing of Wharf's
// sits between the browser and AWS. Credentials are kept in memory only and
// renewed a minute before they expire.
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { SSMClient } from "@aws-sdk/client-ssm";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { ECSClient } from "@aws-sdk/client-ecs";
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import type { Platform, PlatformApp } from "./platform";
import { roleSessionName } from "./data";

/** Counts of AWS requests sent (after signing, so a call refused for lack of credentials is not counted; retries are) by "service.Operation", for docs/performance.md and the e2e test. */
export const calls: Record<string, number> = {};
(globalThis as { __wharfCalls?: Record<string, number> }).__wharfCalls = calls;

function count(service: string, op: string) {
  const k = `${service}.${op}`;
  calls[k] = (calls[k] ?? 0) + 1;
}

type Client = { middlewareStack: { add: (m: any, o: any) => void } };

function counted<T extends Client>(c: T, service: string): T {
  c.middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
      count(service, (ctx.commandName ?? "").replace(/Command$/, ""));
      return next(args);
    },
    { step: "finalizeRequest", name: "wharfCallCounter" },
  );
  return c;
}

/** NoAccessError: STS refused the user's token for this app's role (the trust policy does not list the user). */
export class NoAccessError extends Error {}

export interface TokenSource {
  idToken(): Promise<string>;
  email(): string | undefined;
}

export interface AppClients {
  ssm: SSMClient;
  logs: CloudWatchLogsClient;
  ecs: ECSClient;
  codebuild: CodeBuildClient;
  credentials: () => Promise<AwsCredentialIdentity>;
}

const cache = new Map<string, AppClients>();

export function resetClients() {
  cache.clear();
}

export function clientsFor(p: Platform, app: PlatformApp, tokens: TokenSource): AppClients {
  const hit = cache.get(app.name);
  if (hit) return hit;
  const ep = p.endpoints ?? {};
  const sts = counted(new STSClient({ region: p.region, endpoint: ep.sts }), "sts");
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const credentials = async (): Promise<AwsCredentialIdentity> => {
    if (current?.expiration && current.expiration.getTime() - 60_000 > Date.now()) return current;
    if (!app.userRoleArn) throw new NoAccessError(`${app.name} has no allowed users, so no user role`);
    if (!pending) {
      pending = (async () => {
        try {
          const out = await sts.send(
            new AssumeRoleWithWebIdentityCommand({
              RoleArn: app.userRoleArn,
              RoleSessionName: roleSessionName(tokens.email()),
              WebIdentityToken: await tokens.idToken(),
              DurationSeconds: 900,
            }),
          );
          const c = out.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("STS returned no credentials");
          current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
          return current;
        } catch (e) {
          const name = (e as { name?: string }).name;
          if (name === "AccessDenied" || name === "AccessDeniedException" || name === "InvalidIdentityToken") {
            throw new NoAccessError(`You are not allowed on ${app.name}: ${(e as Error).message}`);
          }
          throw e;
        } finally {
          pending = undefined;
        }
      })();
    }
    return pending;
  };
  const conf = { region: app.region, credentials, maxAttempts: 2 };
  const c: AppClients = {
    ssm: counted(new SSMClient({ ...conf, endpoint: ep.ssm }), "ssm"),
    logs: counted(new CloudWatchLogsClient({ ...conf, endpoint: ep.logs }), "logs"),
    ecs: counted(new ECSClient({ ...conf, endpoint: ep.ecs }), "ecs"),
    codebuild: counted(new CodeBuildClient({ ...conf, endpoint: ep.codebuild }), "codebuild"),
    credentials,
  };
  cache.set(app.name, c);
  return c;
}
