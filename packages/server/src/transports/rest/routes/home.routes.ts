import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Where `npm start` (packages/web, `vite build`) puts the console: the same place from src/ and dist/. */
const CONSOLE_DIR = fileURLToPath(new URL('../../../../../web/dist/', import.meta.url));

/**
 * The console is a single page of static content; its API calls carry the token. It connects to
 * its own origin, and to the OIDC issuer's when OIDC sign-in is offered.
 */
function consoleHeaders(connectTo: readonly string[]) {
  const connect = ["'self'", ...connectTo].join(' ');
  return {
    'cache-control': 'no-cache',
    'content-security-policy': `default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src ${connect}; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
  };
}

/**
 * `/`: the web console for browsers (index.html; its hashed assets under `/ui/assets/`, cached
 * for a year since a new build has new names), a JSON description for other clients, and a
 * plain page with the first steps when the console was not built.
 */
export function homeRoutes(info: {
  version: string;
  database: string;
  consoleDir?: string;
  /** Origins the console may connect to besides its own (the OIDC issuer's). */
  connectTo?: readonly string[];
}): FastifyPluginAsync {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quiver ${escapeHtml(info.version)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1b1f24;background:#fff}
h1{margin-bottom:0}code,pre{font:14px ui-monospace,monospace;background:#f3f4f6;border-radius:4px}
pre{padding:.75rem;overflow:auto}code{padding:0 .25rem}a{color:#0b57d0}.muted{color:#4b5563}
</style></head><body>
<h1>Quiver</h1>
<p class="muted">Model registry and serving, version ${escapeHtml(info.version)}. Storage: ${escapeHtml(info.database)}.</p>
<h2>Start here</h2>
<ul>
<li><a href="/docs">API reference</a> (interactive) and <a href="/openapi.json">OpenAPI 3.1 document</a></li>
<li><a href="/v1/namespaces">Namespaces</a> · <a href="/v1/namespaces/-/models">all models</a></li>
<li>Health: <a href="/livez">/livez</a> · <a href="/readyz">/readyz</a></li>
</ul>
<h2>Register a model</h2>
<pre>npx quiver namespaces create fraud
npx quiver models create fraud/scorer --label team=risk
npx quiver versions create fraud/scorer --description "first model"
npx quiver versions transition fraud/scorer@1 validated
npx quiver aliases set fraud/scorer champion 1</pre>
<p>Or with curl: <code>curl -XPOST localhost:8080/v1/namespaces -H 'content-type: application/json' -d '{"namespace_id":"fraud"}'</code></p>
</body></html>`;
  const about = {
    name: 'Quiver',
    version: info.version,
    database: info.database,
    links: { console: '/', api: '/v1', openapi: '/openapi.json', reference: '/docs', health: '/readyz' },
  };
  const dir = info.consoleDir ?? CONSOLE_DIR;
  const headers = consoleHeaders(info.connectTo ?? []);
  return async (app) => {
    const index = await readFile(join(dir, 'index.html'), 'utf8').catch(() => undefined);
    if (index !== undefined) {
      await app.register(fastifyStatic, {
        root: join(dir, 'assets'),
        prefix: '/ui/assets/',
        decorateReply: false,
        index: false,
        cacheControl: false,
        setHeaders: (reply) => reply.header('cache-control', 'public, max-age=31536000, immutable'),
      });
    }
    app.get('/', { schema: { hide: true } }, async (req, reply) => {
      reply.header('vary', 'accept');
      if (!req.headers.accept?.includes('text/html')) return reply.send(about);
      if (index === undefined) return reply.type('text/html; charset=utf-8').send(page);
      return reply.headers(headers).type('text/html; charset=utf-8').send(index);
    });
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
