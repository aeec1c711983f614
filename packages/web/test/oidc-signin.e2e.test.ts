import { createHash } from 'node:crypto';
import { createClient, type QuiverClient } from '@quiver/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuiver, type Quiver } from '../../server/src/main.js';
import { TEST_TOKEN, type TestDatabase, testDatabase } from '../../server/test/support/databases.js';
import { type IdentityProvider, identityProvider } from '../../server/test/support/identity-provider.js';
import { browserAvailable, buildConsole, launch, newPage, screenshot } from './browser.js';

const CLIENT_ID = 'quiver-console';
const AUDIENCE = 'quiver';
const TOKEN_KEY = 'quiver.token';

/**
 * OIDC sign-in in a real headless Chromium: the console, served by a real Quiver whose
 * QUIVER_OIDC_ISSUER is an identity provider run by the test, goes through the authorization
 * code flow with PKCE and ends signed in as the provider's user; the provider redeems a code
 * only with the verifier of its challenge.
 */
describe.skipIf(!browserAvailable())('OIDC sign-in in the console (Chromium)', () => {
  let idp: IdentityProvider;
  let db: TestDatabase;
  let quiver: Quiver;
  let base: string;
  let admin: QuiverClient;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const signInButton = () => page.getByRole('button', { name: `Sign in with ${new URL(idp.issuer).host}` });
  const alert = () => page.getByRole('alert');
  /** A fresh, signed-out tab of the console at `path`. */
  const signedOutAt = async (path = '/') => {
    await page.goto(`${base}/`);
    await page.evaluate(() => sessionStorage.clear());
    await page.goto('about:blank');
    await page.goto(`${base}${path}`);
    await signInButton().waitFor();
  };

  beforeAll(async () => {
    buildConsole();
    idp = await identityProvider({ clientId: CLIENT_ID, audience: AUDIENCE });
    db = await testDatabase('sqlite', {
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
      QUIVER_OIDC_ISSUER: idp.issuer,
      QUIVER_OIDC_AUDIENCE: AUDIENCE,
      QUIVER_OIDC_CLIENT_ID: CLIENT_ID,
    });
    quiver = await createQuiver(db.config, { logger: false });
    base = await quiver.listen();
    // The console's redirect URI, registered with the client as an administrator would.
    idp.redirectUris.add(`${base}/`);
    admin = createClient({ baseUrl: base, token: TEST_TOKEN });
    await admin.iam.createPrincipal({
      principal_id: 'alice',
      display_name: 'Alice',
      external_subject: `${idp.issuer}|alice-sub`,
    });
    await admin.namespaces.create({ namespace_id: 'fraud' });
    await admin.models.create('fraud', { model_id: 'card-scorer' });
    await admin.iam.createBinding({ role: 'viewer', member: 'groups/ml-team', scope: 'namespaces/fraud' });
    browser = await launch();
    page = await newPage(browser, pageErrors);
  });
  afterAll(async () => {
    await browser?.close();
    await quiver?.close();
    await db?.drop();
    await idp?.close();
  });

  it("offers the identity provider next to the token form, and lets the page reach the issuer's origin", async () => {
    await signedOutAt();
    expect(await signInButton().isEnabled()).toBe(true);
    await page.getByLabel('API token').waitFor();
    await screenshot(page, 'console-signin');
    const html = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    expect(html.headers.get('content-security-policy')).toContain(`connect-src 'self' ${idp.issuer};`);
  });

  it('signs in with the authorization code flow and PKCE, as the principal mapped to the OIDC subject', async () => {
    await signedOutAt();
    await signInButton().click();
    await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();
    expect(await page.getByRole('banner').textContent()).toContain('alice');
    // The groups claim carried the viewer grant on the namespace.
    await page.getByRole('link', { name: 'card-scorer' }).waitFor();
    // The code and state left the address bar.
    expect(new URL(page.url()).search).toBe('');

    const authorization = idp.authorizations.at(-1)!;
    expect(authorization).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${base}/`,
      scope: 'openid profile email',
      code_challenge_method: 'S256',
    });
    expect(authorization.state).toMatch(/^[\w-]{43}$/);
    expect(authorization.nonce).toMatch(/^[\w-]{43}$/);
    const exchange = idp.exchanges.at(-1)!;
    expect(exchange.status).toBe(200);
    expect(Object.keys(exchange.params).sort()).toEqual([
      'client_id',
      'code',
      'code_verifier',
      'grant_type',
      'redirect_uri',
    ]);
    const verifier = exchange.params.code_verifier!;
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(authorization.code_challenge);

    // The tab keeps the provider's access token, and the server sees the OIDC principal with it.
    const token = await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY);
    const me = await createClient({ baseUrl: base, token: token! }).iam.whoami();
    expect(me).toMatchObject({ principal: 'principals/alice', kind: 'user', groups: ['ml-team'] });
    expect(me.grants).toEqual([
      { scope: 'namespaces/fraud', permissions: expect.arrayContaining(['models.get']) },
    ]);
  });

  it('comes back to the screen where sign-in started', async () => {
    await signedOutAt('/#/deployments');
    await signInButton().click();
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/deployments');
  });

  it('is refused by the identity provider when the code_verifier is not the one of the challenge', async () => {
    await signedOutAt();
    // The console's token request, with another (well-formed) verifier in place of its own.
    await page.route(`${idp.issuer}/token`, (route) => {
      const form = new URLSearchParams(route.request().postData() ?? '');
      form.set('code_verifier', 'x'.repeat(43));
      return route.continue({ postData: form.toString() });
    });
    try {
      await signInButton().click();
      await alert().filter({ hasText: 'did not issue a token' }).waitFor();
    } finally {
      await page.unroute(`${idp.issuer}/token`);
    }
    expect(await alert().textContent()).toContain('(invalid_grant: PKCE verification failed)');
    expect(idp.exchanges.at(-1)).toMatchObject({ status: 400, description: 'PKCE verification failed' });
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBeNull();
    // Still on the sign-in screen, ready to try again.
    expect(await signInButton().isEnabled()).toBe(true);
  });

  it('explains a refusal by the identity provider', async () => {
    await signedOutAt();
    idp.refuseNext = 'access_denied';
    await signInButton().click();
    await alert().waitFor();
    expect(await alert().textContent()).toBe(
      `${new URL(idp.issuer).host} did not sign you in (access_denied: The user declined to sign in). Try again, or sign in with an API token.`,
    );
  });

  it('says what to fix when Quiver refuses the token for its audience', async () => {
    await signedOutAt();
    idp.audience = 'another-api';
    try {
      await signInButton().click();
      await alert().waitFor();
    } finally {
      idp.audience = AUDIENCE;
    }
    const text = await alert().textContent();
    expect(text).toContain('signed you in, but Quiver refused its token');
    expect(text).toContain('"aud"');
    expect(text).toContain('QUIVER_OIDC_AUDIENCE');
  });

  it('ignores an answer this tab did not ask for (state mismatch)', async () => {
    await signedOutAt();
    await page.goto(`${base}/?code=stolen&state=forged`);
    await alert().waitFor();
    expect(await alert().textContent()).toMatch(/does not belong to a sign-in started in this tab/);
    expect(new URL(page.url()).search).toBe('');
  });

  it('raised no uncaught error in the page along the way', () => {
    expect(pageErrors).toEqual([]);
  });
});
