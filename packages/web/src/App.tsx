import type { QuiverClient, WhoAmI } from '@quiver/sdk';
import { useCallback, useEffect, useState } from 'react';
import { Loading } from './components/common.js';
import { completeOidcSignIn, hasCallback, takeCallback } from './oidc/signin.js';
import { type Route, useRoute } from './router.js';
import { AuditScreen } from './screens/Audit.js';
import { DeploymentDetail } from './screens/DeploymentDetail.js';
import { DeploymentsList } from './screens/DeploymentsList.js';
import { ModelDetail } from './screens/ModelDetail.js';
import { ModelsList } from './screens/ModelsList.js';
import { Playground } from './screens/Playground.js';
import { SignIn } from './screens/SignIn.js';
import { VersionDetail } from './screens/VersionDetail.js';
import { clientFor, SessionProvider, storedToken, useSession } from './session.js';

type Auth =
  | { state: 'checking' }
  | { state: 'signed-out'; oidcError?: unknown }
  | { state: 'in'; client: QuiverClient; me: WhoAmI };

export function App() {
  const [auth, setAuth] = useState<Auth>(() =>
    storedToken() === null && !hasCallback() ? { state: 'signed-out' } : { state: 'checking' },
  );

  useEffect(() => {
    // Back from the identity provider: finish that sign-in (it replaces any earlier session).
    const callback = takeCallback();
    if (callback) {
      completeOidcSignIn(callback).then(
        ({ client, me }) => setAuth({ state: 'in', client, me }),
        (oidcError: unknown) => setAuth({ state: 'signed-out', oidcError }),
      );
      return;
    }
    // A token kept from earlier in this tab is checked again: it may have been revoked.
    const token = storedToken();
    if (token === null) return;
    const client = clientFor(token);
    client.iam.whoami().then(
      (me) => setAuth({ state: 'in', client, me }),
      () => setAuth({ state: 'signed-out' }),
    );
  }, []);

  const onSignOut = useCallback(() => setAuth({ state: 'signed-out' }), []);
  if (auth.state === 'checking') return <Loading what="session" />;
  if (auth.state === 'signed-out')
    return (
      <SignIn onSignedIn={(client, me) => setAuth({ state: 'in', client, me })} oidcError={auth.oidcError} />
    );
  return (
    <SessionProvider client={auth.client} me={auth.me} onSignOut={onSignOut}>
      <Shell />
    </SessionProvider>
  );
}

const SECTIONS = [
  { key: 'models', label: 'Models' },
  { key: 'deployments', label: 'Deployments' },
  { key: 'playground', label: 'Playground' },
  { key: 'audit', label: 'Audit' },
] as const;

function Shell() {
  const route = useRoute();
  const { me, signOut } = useSession();
  const section = route.segments[0] ?? 'models';
  return (
    <>
      <button type="button" className="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header className="top">
        <span className="brand">Quiver</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.key}>
                <a href={`#/${s.key}`} aria-current={section === s.key ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" title={`authentication ${me.authentication}`}>
          {me.principal.replace(/^principals\//, '')}
        </span>
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}

function Screen({ route }: { route: Route }) {
  const [section = 'models', a, b, c, d] = route.segments;
  switch (section) {
    case 'models':
      if (a && b && c === 'versions' && d) return <VersionDetail namespace={a} model={b} version={d} />;
      if (a && b) return <ModelDetail namespace={a} model={b} />;
      return <ModelsList />;
    case 'deployments':
      if (a) return <DeploymentDetail id={a} operation={route.query.get('op') ?? undefined} />;
      return <DeploymentsList />;
    case 'playground':
      return <Playground initial={route.query.get('deployment') ?? undefined} />;
    case 'audit':
      return <AuditScreen />;
    default:
      return (
        <p>
          Nothing here. Go to <a href="#/models">models</a>.
        </p>
      );
  }
}
