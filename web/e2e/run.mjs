// End-to-end run of the dashboard in Debian's headless Chromium, driven by
// playwright-core (which downloads no browser). Started by the Go test in
// web/e2e (e2e_test.go), which runs the local world (internal/dashfake) and
// passes its addresses in the environment:
//
//   WHARF_SITE     the built site (web/dist) with the dashboard's headers
//   WHARF_CONTROL  the world's control API (start builds, write logs, read config)
//   WHARF_OUT      where screenshots and metrics.json go (gitignored)
//   WHARF_BENCH    if set to N: only time N loads of the apps page
//
// Every step asserts what a user would see; any console error, page error or
// CSP violation fails the run. Accessibility: axe-core on every page, no
// serious or critical violation allowed.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const site = mustEnv("WHARF_SITE");
const control = mustEnv("WHARF_CONTROL");
const out = process.env.WHARF_OUT || "e2e/out";
const bench = Number(process.env.WHARF_BENCH || 0);
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

function mustEnv(k) {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
}

class Failure extends Error {}
function check(cond, msg) {
  if (!cond) throw new Failure(msg);
}
const step = (name) => console.log(`--- ${name}`);

async function ctl(method, path) {
  const res = await fetch(control + path, { method });
  return { status: res.status, text: await res.text() };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, deviceScaleFactor: 1 });
const page = await context.newPage();
const problems = [];
page.on("console", (m) => {
  // "Failed to load resource" is the browser's line for any HTTP error; those are checked below.
  if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  if (process.env.WHARF_DEBUG && m.type() === "error") console.log("console error", m.text(), JSON.stringify(m.location()));
});
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
// Failed HTTP responses, each checked against the ones the scenarios expect.
const failedResponses = [];
page.on("response", (r) => {
  if (r.status() >= 400) {
    const req = r.request();
    failedResponses.push({ status: r.status(), url: r.url(), method: req.method(), target: req.headers()["x-amz-target"] ?? "", body: req.postData() ?? "" });
  }
});
page.setDefaultTimeout(15_000);

const metrics = { callsPerPage: {}, a11y: {} };

async function shot(name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}

async function axe(name) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = res.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  metrics.a11y[name] = res.violations.map((v) => `${v.impact} ${v.id}`);
  check(bad.length === 0, `${name}: accessibility violations: ${bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`).join("; ")}`);
}

const text = async (sel) => (await page.locator(sel).first().textContent()) ?? "";
const resetCalls = () => page.evaluate(() => Object.keys(window.__wharfCalls || {}).forEach((k) => delete window.__wharfCalls[k]));
const readCalls = () => page.evaluate(() => ({ ...(window.__wharfCalls || {}) }));
const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);

async function signIn(email, deepLink) {
  await page.goto(site + deepLink);
  const button = page.getByRole("button", { name: /Sign in with/ });
  await button.waitFor();
  return async () => {
    await button.click();
    // The issuer's own login page (internal/testoidc).
    await page.getByLabel("Username").waitFor();
    await page.getByLabel("Username").fill(email);
    await page.getByLabel("Password").fill(mustEnv("WHARF_PASSWORD"));
    await page.getByRole("button", { name: "Log in" }).click();
  };
}

async function waitAppsResolved() {
  await page.locator("tr[data-app]").first().waitFor();
  await page.waitForFunction(() => !document.body.textContent.includes("checking…"));
}

try {
  if (bench > 0) {
    const go = await signIn("alice@example.com", "/");
    await go();
    await waitAppsResolved();
    const times = [];
    const calls = [];
    for (let i = 0; i < bench; i++) {
      const t0 = Date.now();
      await page.goto(site + "/");
      await waitAppsResolved();
      times.push(Date.now() - t0);
      calls.push(sum(await readCalls()));
    }
    times.sort((a, b) => a - b);
    const res = { runs: bench, medianMs: times[Math.floor(times.length / 2)], minMs: times[0], maxMs: times[times.length - 1], awsCalls: calls[0] };
    console.log(JSON.stringify(res));
    writeFileSync(join(out, "bench.json"), JSON.stringify(res, null, 2));
  } else {
    step("sign in from a deep link, with PKCE");
    const go = await signIn("alice@example.com", "/apps/api/deploys/42");
    check((await page.title()) === "Wharf", "title");
    await axe("signin");
    await shot("01-signin");
    await go();
    await page.waitForURL(site + "/apps/api/deploys/42");
    await page.locator('[data-testid="outcome"]').waitFor();
    check((await text('[data-testid="outcome"]')) === "deployed", "build 42 is deployed");
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: Object.keys(sessionStorage) }));
    check(storage.local === 0, `localStorage must stay empty, has ${storage.local} keys`);
    check(storage.session.some((k) => k.startsWith("oidc.user:")), `the session is in sessionStorage: ${storage.session}`);
    check((await text("header .who")).includes("alice@example.com"), "signed in as alice");
    await page.locator("pre.log").waitFor();
    check((await text("pre.log")).includes("Running tests: 128 passed"), "build log shown");
    await axe("deploy");
    await shot("05-deploy-42");

    step("apps: reachable and not");
    await resetCalls();
    await page.getByRole("link", { name: "Apps" }).first().click();
    await waitAppsResolved();
    metrics.callsPerPage.apps = await readCalls();
    check((await text('tr[data-app="api"]')).includes("deployed"), "api is deployed");
    check((await text('tr[data-app="api"]')).includes("#42"), "api runs build 42");
    check((await text('tr[data-app="billing"]')).includes("no access"), "billing shows no access");
    check((await page.locator('tr[data-app="billing"] a[href="/apps/billing"]').count()) === 0, "billing is not a link");
    check((await text('tr[data-app="shop"]')).includes("idle"), "shop was never built");
    await axe("apps");
    await shot("02-apps");

    step("open an app");
    await resetCalls();
    await page.getByRole("link", { name: "api", exact: true }).click();
    await page.waitForURL(site + "/apps/api");
    await page.locator('table[aria-label="Last deploys"]').waitFor();
    await page.waitForFunction(() => !document.querySelector('table[aria-label="Processes"]')?.textContent.includes("…"));
    metrics.callsPerPage.overview = await readCalls();
    const procs = await text('table[aria-label="Processes"]');
    check(/web\s*2\s*2/.test(procs.replace(/Pending|Running|Desired|Process/g, "")), `web 2 desired 2 running: ${procs}`);
    const deploys = await text('table[aria-label="Last deploys"]');
    check(deploys.includes("#42") && deploys.includes("#41") && deploys.includes("ReleaseFailed"), `deploy history: ${deploys}`);
    await axe("overview");
    await shot("03-overview");

    step("processes");
    await resetCalls();
    await page.getByRole("link", { name: "Processes" }).click();
    await page.locator('table[aria-label="Tasks"]').waitFor();
    metrics.callsPerPage.processes = await readCalls();
    check((await page.locator('table[aria-label="Tasks"] tbody tr').count()) === 3, "three tasks (2 web, 1 worker)");
    await axe("processes");
    await shot("08-processes");

    step("tail logs");
    await resetCalls();
    await page.goto(site + "/apps/api/logs?follow=1");
    await page.locator(".logline").first().waitFor();
    metrics.callsPerPage.logs = await readCalls();
    check((await page.locator(".logline").count()) === 3, "three seeded lines");
    await ctl("POST", "/log?app=api&proc=web&msg=" + encodeURIComponent("POST /checkout 201 33.0ms"));
    await page.getByText("POST /checkout 201 33.0ms").waitFor({ timeout: 10_000 });
    await page.getByLabel("Process").selectOption("worker");
    await page.waitForURL(/proc=worker/);
    await page.waitForFunction(() => {
      const l = [...document.querySelectorAll(".logline .proc")];
      return l.length > 0 && l.every((x) => x.textContent === "worker");
    });
    check((await page.locator(".logline").count()) === 1, "only the worker line");
    await ctl("POST", "/log?app=api&proc=web&msg=hidden-from-worker-filter");
    await ctl("POST", "/log?app=api&proc=worker&msg=" + encodeURIComponent("job charge_card done in 12ms"));
    await page.getByText("job charge_card done in 12ms").waitFor({ timeout: 10_000 });
    check((await page.getByText("hidden-from-worker-filter").count()) === 0, "web line filtered out");
    await page.getByLabel("Process").selectOption("");
    await page.getByText("hidden-from-worker-filter").waitFor();
    await axe("logs");
    await shot("06-logs");

    step("config: masked, reveal, add, edit, delete");
    await resetCalls();
    await page.getByRole("link", { name: "Config" }).click();
    await page.locator('tr[data-var="SECRET_KEY"]').waitFor();
    metrics.callsPerPage.config = await readCalls();
    check(!(await page.content()).includes("s3cr3t-value-do-not-show"), "values are masked until revealed");
    await page.getByRole("button", { name: "Reveal SECRET_KEY" }).click();
    check((await text('tr[data-var="SECRET_KEY"]')).includes("s3cr3t-value-do-not-show"), "revealed");
    await page.getByRole("button", { name: "Hide SECRET_KEY" }).click();
    await page.fill("#new-name", "1BAD");
    await page.fill("#new-value", "x");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.getByText("Name must start with a letter").waitFor();
    check((await ctl("GET", "/config?app=api&name=1BAD")).status === 404, "invalid name not saved");
    await page.fill("#new-name", "FEATURE_CHECKOUT");
    await page.fill("#new-value", "on");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.locator('tr[data-var="FEATURE_CHECKOUT"]').waitFor();
    const saved = await ctl("GET", "/config?app=api&name=FEATURE_CHECKOUT");
    check(saved.status === 200 && saved.text === "on", `FEATURE_CHECKOUT stored in SSM: ${saved.status} ${saved.text}`);
    await page.getByRole("button", { name: "Edit LOG_LEVEL" }).click();
    await page.fill("#edit-LOG_LEVEL-value", "debug");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved LOG_LEVEL").waitFor();
    check((await ctl("GET", "/config?app=api&name=LOG_LEVEL")).text === "debug", "LOG_LEVEL edited");
    await page.getByRole("button", { name: "Delete FEATURE_CHECKOUT" }).click();
    await page.getByRole("group", { name: "Confirm deleting FEATURE_CHECKOUT" }).waitFor();
    check((await ctl("GET", "/config?app=api&name=FEATURE_CHECKOUT")).status === 200, "nothing deleted before confirming");
    await axe("config-confirm");
    await shot("07b-config-confirm-delete");
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByText("Deleted FEATURE_CHECKOUT").waitFor();
    check((await ctl("GET", "/config?app=api&name=FEATURE_CHECKOUT")).status === 404, "FEATURE_CHECKOUT deleted in SSM");
    await page.getByRole("button", { name: "Reveal DATABASE_URL" }).click();
    await axe("config");
    await shot("07-config");

    step("follow a deploy to done");
    check((await ctl("POST", "/build/start?app=api&build=43")).status === 200, "start build 43");
    await page.goto(site + "/apps/api/deploys/43");
    await page.locator('[data-stage="build"][data-state="active"]').waitFor();
    await page.locator("pre.log").waitFor();
    metrics.callsPerPage.deployFreshLoad = await readCalls();
    check((await text('[data-testid="outcome"]')) === "in progress", "43 in progress");
    await ctl("POST", "/build/advance?app=api&build=43&phase=releasing");
    await page.locator('[data-stage="release"][data-state="active"]').waitFor();
    check((await page.locator('[data-stage="build"][data-state="done"]').count()) === 1, "build done once release started");
    await ctl("POST", "/build/advance?app=api&build=43&phase=deploying");
    await page.locator('[data-stage="services"][data-state="active"]').waitFor();
    await shot("04-deploy-in-progress");
    await axe("deploy-running");
    await ctl("POST", "/build/advance?app=api&build=43&phase=deployed");
    await page.locator('[data-stage="result"][data-state="done"]').waitFor();
    check((await text('[data-testid="outcome"]')) === "deployed", "43 deployed");

    step("follow a deploy to a failed release");
    await ctl("POST", "/build/start?app=api&build=44");
    await page.goto(site + "/apps/api/deploys/44");
    await page.locator('[data-stage="build"][data-state="active"]').waitFor();
    await ctl("POST", "/build/advance?app=api&build=44&phase=releasing");
    await page.locator('[data-stage="release"][data-state="active"]').waitFor();
    await ctl("POST", "/build/advance?app=api&build=44&phase=failed&reason=ReleaseFailed&detail=" + encodeURIComponent("release task exited with code 1: migration 0042 failed"));
    await page.locator('[data-testid="failure"]').waitFor();
    check((await text('[data-testid="failure"]')).includes("ReleaseFailed"), "failure reason shown");
    check((await text('[data-testid="failure"]')).includes("migration 0042 failed"), "failure detail shown");
    check((await page.locator('[data-stage="release"][data-state="failed"]').count()) === 1, "release is the failed stage");
    check((await page.locator('[data-stage="services"][data-state="pending"]').count()) === 1, "services never started");
    await axe("deploy-failed");
    await shot("05b-deploy-failed");

    step("overview after the failure");
    await page.goto(site + "/apps/api");
    await page.locator('table[aria-label="Last deploys"]').waitFor();
    check((await text(".cards")).includes("failed"), "status failed");
    check((await text('table[aria-label="Last deploys"]')).includes("#43"), "43 in history");

    step("a user not allowed on an app");
    await resetCalls();
    await page.goto(site + "/apps/billing/config");
    await page.getByText("No access.").waitFor();
    metrics.callsPerPage.deniedConfig = await readCalls();
    check(!(await page.content()).includes("sk_live_billing_secret"), "billing config never shown");
    check((await page.locator('tr[data-var]').count()) === 0, "no config rows");
    const denied = JSON.parse((await ctl("GET", "/denied")).text);
    check((denied["arn:aws:iam::111122223333:role/wharf-app-billing-user"] ?? 0) >= 1, `STS refused the billing role: ${JSON.stringify(denied)}`);
    await axe("denied");
    await shot("09-no-access");

    step("deep link after sign-out needs sign-in again");
    await page.goto(site + "/");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: /Sign in with/ }).waitFor();
    check(Object.keys(await page.evaluate(() => ({ ...sessionStorage }))).length === 0, "session cleared");

    writeFileSync(join(out, "metrics.json"), JSON.stringify(metrics, null, 2));
  }
  for (const f of failedResponses) {
    const stsDenied = f.status === 403 && f.body.includes("Action=AssumeRoleWithWebIdentity") && f.body.includes("wharf-app-billing-user");
    const issuerFavicon = f.url.startsWith(mustEnv("WHARF_ISSUER")) && f.url.endsWith("/favicon.ico");
    const neverBuilt = f.status === 400 && f.target === "AmazonSSM.GetParameter" && f.body.includes("/wharf/apps/shop/status");
    if (!stsDenied && !neverBuilt && !issuerFavicon) problems.push(`unexpected HTTP ${f.status}: ${f.method} ${f.url} ${f.target} ${f.body.slice(0, 200)}`);
  }
  check(problems.length === 0, `browser problems:\n${problems.join("\n")}`);
  console.log("e2e: all steps passed");
} catch (e) {
  await shot("failure").catch(() => {});
  console.error(`e2e FAILED: ${e.message}`);
  if (problems.length) console.error(problems.join("\n"));
  process.exitCode = 1;
} finally {
  await browser.close();
}
