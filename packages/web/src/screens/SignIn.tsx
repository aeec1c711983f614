import type { QuiverClient, WhoAmI } from '@quiver/sdk';
import { useState } from 'react';
import { ErrorNotice } from '../components/common.js';
import { clientFor, storeToken } from '../session.js';

/**
 * Sign-in with an API token (or any bearer token the server accepts, an OIDC JWT included):
 * the token is checked with whoami before it is kept.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (client: QuiverClient, me: WhoAmI) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const client = clientFor(token.trim());
      const me = await client.iam.whoami();
      storeToken(token.trim());
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
      <p className="muted">Model registry and serving. Sign in with an API token.</p>
      <form onSubmit={submit} className="card">
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
