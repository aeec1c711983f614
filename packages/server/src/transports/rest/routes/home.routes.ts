import type { FastifyPluginAsync } from 'fastify';

/** `/`: what this server is and where to go next, until the web console replaces it. */
export function homeRoutes(info: { version: string; database: string }): FastifyPluginAsync {
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
  return async (app) => {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send(page),
    );
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
