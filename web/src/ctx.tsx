import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import type { User } from "oidc-client-ts";
import type { Platform, PlatformApp } from "./platform";
import { clientsFor, NoAccessError, type AppClients } from "./aws";
import { currentUser, signIn } from "./auth";

export interface Session {
  platform: Platform;
  user: User;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("no session");
  return s;
}

/** useApp returns the app from the descriptor and its clients (undefined when the app is unknown). */
export function useApp(name: string): { app?: PlatformApp; clients?: AppClients } {
  const { platform, user } = useSession();
  const app = platform.apps.find((a) => a.name === name);
  if (!app) return {};
  const clients = clientsFor(platform, app, {
    idToken: async () => {
      const u = await currentUser(platform);
      if (!u) {
        await signIn(platform, window.location.pathname + window.location.search);
        throw new Error("Your session has expired; signing in again.");
      }
      return u.id_token!;
    },
    email: () => (user.profile.email as string | undefined) ?? undefined,
  });
  return { app, clients };
}

export interface Async<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

/** useAsync runs fn when deps change and on reload(); stale results are dropped. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const my = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => my === seq.current && setState({ data, loading: false }),
      (error: Error) => my === seq.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function isNoAccess(e: unknown): boolean {
  return e instanceof NoAccessError;
}
