import { createClient, type QuiverClient, type WhoAmI } from '@quiver/sdk';
import { createContext, useCallback, useContext, useMemo, useState } from 'react';
import { covers } from './grants.js';

/** sessionStorage, not localStorage: the token leaves with the tab. */
const TOKEN_KEY = 'quiver.token';

export interface Session {
  client: QuiverClient;
  me: WhoAmI;
  /** Permissions the server refused (`versions.approve@namespaces/a/models/b`): their actions are hidden. */
  denied: ReadonlySet<string>;
  deny: (permission: string, scope: string) => void;
  /**
   * Whether the caller holds `permission` on `scope` (`namespaces/a/models/b`), from the grants
   * whoami lists, and the server has not refused it since: actions are shown only then.
   */
  may: (permission: string, scope: string) => boolean;
  signOut: () => void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/**
 * A client on this page's origin carrying the token. Uploads are sent whole, not streamed:
 * Chromium streams request bodies only over HTTP/2 and fails them over HTTP/1.1, which is
 * what `quiver serve` speaks.
 */
export function clientFor(token: string): QuiverClient {
  return createClient({
    baseUrl: window.location.origin,
    token: token || undefined,
    retries: 1,
    streamingUploads: false,
  });
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/**
 * How every sign-in ends, a pasted token's or one from the OIDC provider: the token is checked
 * with whoami, and only then kept for this tab.
 */
export async function signInWith(token: string): Promise<{ client: QuiverClient; me: WhoAmI }> {
  const client = clientFor(token);
  const me = await client.iam.whoami();
  storeToken(token);
  return { client, me };
}

export function SessionProvider(props: {
  client: QuiverClient;
  me: WhoAmI;
  onSignOut: () => void;
  children: React.ReactNode;
}) {
  const { client, me, onSignOut, children } = props;
  const [denied, setDenied] = useState<ReadonlySet<string>>(new Set());
  const deny = useCallback((permission: string, scope: string) => {
    setDenied((prev) => new Set(prev).add(`${permission}@${scope}`));
  }, []);
  const signOut = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    onSignOut();
  }, [onSignOut]);
  const may = useCallback(
    (permission: string, scope: string) =>
      !denied.has(`${permission}@${scope}`) &&
      me.grants.some((g) => g.permissions.includes(permission) && covers(g.scope, scope)),
    [me, denied],
  );
  const value = useMemo(
    () => ({ client, me, denied, deny, may, signOut }),
    [client, me, denied, deny, may, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
