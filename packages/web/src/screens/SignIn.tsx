import type { QuiverClient, WhoAmI } from '@quiver/sdk';
import { useEffect, useState } from 'react';
import { ErrorNotice } from '../components/common.js';
import { useAsync } from '../hooks.js';
import { hostOf } from '../oidc/protocol.js';
import { type OidcConfig, startOidcSignIn } from '../oidc/signin.js';
import { clientFor, signInWith } from '../session.js';

/**
 * Sign-in with an API token (or any bearer token the server accepts, an OIDC JWT included),
 * checked with whoami before it is kept; and, when the server names an OIDC issuer and client,
 * with that identity provider (authorization code flow with PKCE, see oidc/).
 */
export function SignIn(props: {
  onSignedIn: (client: QuiverClient, me: WhoAmI) => void;
  /** Why the last OIDC sign-in failed, when the identity provider sent the user back with no session. */
  oidcError?: unknown;
}) {
  const { onSignedIn } = props;
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // Asked without a token; a server that does not know the route offers tokens only.
  const config = useAsync((signal) => clientFor('').iam.getAuthConfig({ signal, timeoutMs: 10_000 }), []);
  const oidc = config.data?.oidc ?? undefined;

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { client, me } = await signInWith(token.trim());
      onSignedIn(client, me);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <h1>Quiver console</h1>
      <p className="muted">
        Model registry and serving. Sign in {oidc ? `with your ${hostOf(oidc.issuer)} account or ` : ''}with
        an API token.
      </p>
      {config.loading ? null : oidc ? (
        <OidcSignIn config={oidc} initialError={props.oidcError} />
      ) : (
        <ErrorNotice error={props.oidcError} />
      )}
      <form onSubmit={submit} className="card">
        {oidc && <h2>Or with an API token</h2>}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="qvr_…"
          required
        />
        <p className="hint">
          Create one with <code>quiver iam tokens create</code>. It is kept in this tab only (sessionStorage).
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorNotice error={error} />
      </form>
    </main>
  );
}

/** The identity provider's button: leaves for its sign-in page, which sends the user back here. */
function OidcSignIn({ config, initialError }: { config: OidcConfig; initialError: unknown }) {
  const [error, setError] = useState<unknown>(initialError);
  const [leaving, setLeaving] = useState(false);
  const host = hostOf(config.issuer);
  // Back from the provider's page without signing in: the browser may show this page as it was left.
  useEffect(() => {
    const shown = (event: PageTransitionEvent) => {
      if (event.persisted) setLeaving(false);
    };
    window.addEventListener('pageshow', shown);
    return () => window.removeEventListener('pageshow', shown);
  }, []);

  const start = async () => {
    setLeaving(true);
    setError(undefined);
    try {
      await startOidcSignIn(config);
    } catch (err) {
      setError(err);
      setLeaving(false);
    }
  };

  return (
    <section className="card" aria-labelledby="oidc-title">
      <h2 id="oidc-title">Single sign-on</h2>
      <button type="button" className="primary" onClick={start} disabled={leaving}>
        {leaving ? `Going to ${host}…` : `Sign in with ${host}`}
      </button>
      <p className="hint">You sign in at {host} and come back here; the token is kept in this tab only.</p>
      <ErrorNotice error={error} />
    </section>
  );
}
