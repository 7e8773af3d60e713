// Sign-in: OpenID Connect authorization code flow with PKCE (oidc-client-ts).
// Tokens and the flow's state live in sessionStorage, never localStorage:
// they end with the tab, and other tabs or later visitors of the machine
// cannot read them.
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import { dashboardClientId, type Platform } from "./platform";

let manager: UserManager | undefined;

export function userManager(p: Platform): UserManager {
  if (!manager) {
    const store = new WebStorageStateStore({ store: window.sessionStorage });
    manager = new UserManager({
      authority: p.issuer,
      client_id: dashboardClientId(p),
      redirect_uri: `${window.location.origin}/callback`,
      post_logout_redirect_uri: `${window.location.origin}/`,
      response_type: "code",
      scope: "openid email profile",
      userStore: store,
      stateStore: store,
      automaticSilentRenew: false,
      loadUserInfo: false,
    });
  }
  return manager;
}

/** currentUser returns the signed-in user, or undefined when there is none or the ID token has expired. */
export async function currentUser(p: Platform): Promise<User | undefined> {
  const u = await userManager(p).getUser();
  if (!u || !u.id_token) return undefined;
  const exp = Number(u.profile.exp);
  if (exp && exp * 1000 < Date.now() + 30_000) return undefined;
  return u;
}

/** signIn sends the browser to the issuer; returnTo is restored after the callback. */
export async function signIn(p: Platform, returnTo: string): Promise<void> {
  await userManager(p).signinRedirect({ state: { returnTo } });
}

/** completeSignIn handles /callback and returns where to go next. */
export async function completeSignIn(p: Platform): Promise<string> {
  const u = await userManager(p).signinRedirectCallback();
  const rt = (u.state as { returnTo?: string } | undefined)?.returnTo;
  // Only same-site paths: never an absolute URL that an attacker put in state.
  return rt && rt.startsWith("/") && !rt.startsWith("//") ? rt : "/";
}

export async function signOut(p: Platform): Promise<void> {
  await userManager(p).removeUser();
  window.sessionStorage.clear();
}
