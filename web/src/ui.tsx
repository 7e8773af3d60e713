import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { isNoAccess } from "./ctx";
import type { Phase } from "./data";
import { phaseLabel } from "./data";

export function PhaseBadge({ phase }: { phase: Phase | "no access" | "unknown" }) {
  const cls = phase === "" ? "idle" : phase.replace(" ", "-");
  return <span class={`badge badge-${cls}`}>{phase === "no access" || phase === "unknown" ? phase : phaseLabel(phase)}</span>;
}

export function ErrorBox({ error }: { error: Error }) {
  if (isNoAccess(error)) {
    return (
      <div class="notice notice-denied" role="alert">
        <strong>No access.</strong> {error.message}. Ask a platform administrator to add your email to the app's allowed users.
      </div>
    );
  }
  return (
    <div class="notice notice-error" role="alert">
      <strong>Something went wrong.</strong> {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function AppNav({ app }: { app: string }) {
  const { path } = useLocation();
  const tabs = [
    { href: `/apps/${app}`, label: "Overview" },
    { href: `/apps/${app}/logs`, label: "Logs" },
    { href: `/apps/${app}/config`, label: "Config" },
    { href: `/apps/${app}/processes`, label: "Processes" },
  ];
  return (
    <nav class="tabs" aria-label={`${app} sections`}>
      {tabs.map((t) => (
        <a href={t.href} aria-current={path === t.href ? "page" : undefined}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}

export function AppPage({ app, title, children }: { app: string; title: string; children: ComponentChildren }) {
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Apps</a> <span aria-hidden="true">/</span> <a href={`/apps/${app}`}>{app}</a>
      </nav>
      <h1>
        {app} <span class="subtitle">{title}</span>
      </h1>
      <AppNav app={app} />
      {children}
    </>
  );
}

export function Time({ at }: { at?: string | Date }) {
  if (!at) return <span class="muted">–</span>;
  const d = typeof at === "string" ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return <span>{String(at)}</span>;
  return <time dateTime={d.toISOString()}>{d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")}</time>;
}
