import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { LocationProvider, Router, Route, useLocation } from "preact-iso";
import "./style.css";
import { loadPlatform, type Platform } from "./platform";
import { completeSignIn, currentUser, signIn, signOut } from "./auth";
import { SessionContext, type Session } from "./ctx";
import { resetClients } from "./aws";
import { AppsPage } from "./pages/apps";
import { OverviewPage } from "./pages/overview";
import { DeployPage } from "./pages/deploy";
import { LogsPage } from "./pages/logs";
import { ConfigPage } from "./pages/config";
import { ProcessesPage } from "./pages/processes";

function SignInPage({ platform, returnTo }: { platform: Platform; returnTo: string }) {
  const host = new URL(platform.issuer).host;
  return (
    <main id="main" class="signin">
      <h1>Wharf</h1>
      <p>Sign in to see your apps, their deploys, logs and configuration.</p>
      <button class="primary" onClick={() => signIn(platform, returnTo)}>
        Sign in with {host}
      </button>
      <p class="muted small">
        The dashboard is a static site: after signing in, your browser talks to AWS directly with short-lived credentials of each app's role. Your session ends when you
        close this tab.
      </p>
    </main>
  );
}

function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no such page. <a href="/">Back to the apps</a>.
      </p>
    </>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Wharf
        </a>
        <span class="who">
          {String(session.user.profile.email ?? session.user.profile.sub)}{" "}
          <button class="link" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main">
        <Router>
          <Route path="/" component={AppsPage} />
          <Route path="/apps/:app" component={OverviewPage} />
          <Route path="/apps/:app/deploys/:build" component={DeployPage} />
          <Route path="/apps/:app/logs" component={LogsPage} />
          <Route path="/apps/:app/config" component={ConfigPage} />
          <Route path="/apps/:app/processes" component={ProcessesPage} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </SessionContext.Provider>
  );
}

function Root() {
  const loc = useLocation();
  const [platform, setPlatform] = useState<Platform>();
  const [session, setSession] = useState<Session | null>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    loadPlatform()
      .then(async (p) => {
        setPlatform(p);
        if (window.location.pathname === "/callback") {
          const to = await completeSignIn(p);
          const u = await currentUser(p);
          setSession(u ? { platform: p, user: u } : null);
          loc.route(to, true);
          return;
        }
        const u = await currentUser(p);
        setSession(u ? { platform: p, user: u } : null);
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  if (error)
    return (
      <main id="main">
        <h1>Wharf</h1>
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      </main>
    );
  if (!platform || session === undefined) return <p class="loading" role="status">Loading…</p>;
  if (!session) {
    const here = loc.path === "/callback" || loc.path === "/signin" ? "/" : loc.url;
    return <SignInPage platform={platform} returnTo={here} />;
  }
  return (
    <Shell
      session={session}
      onSignOut={async () => {
        await signOut(platform);
        resetClients();
        setSession(null);
        loc.route("/signin");
      }}
    />
  );
}

render(
  <LocationProvider>
    <Root />
  </LocationProvider>,
  document.getElementById("root")!,
);
