// Prints the SQL and query plan of the main read paths on a seeded database:
// node bench/explain.mjs <dataDir> [databaseUrl]

import { sql } from 'kysely';
import { createQuiver, loadConfig } from '../packages/server/dist/index.js';
import { AUTH, BENCH_TOKEN } from './load.mjs';

const [dataDir, databaseUrl] = process.argv.slice(2);
const captured = [];
const env = {
  QUIVER_DATA_DIR: dataDir,
  QUIVER_LOG_LEVEL: 'silent',
  QUIVER_BOOTSTRAP_TOKEN: BENCH_TOKEN,
  ...(databaseUrl && databaseUrl !== '-' ? { QUIVER_DATABASE_URL: databaseUrl } : {}),
};
const quiver = await createQuiver(loadConfig(env), { logger: false, onQuery: (e) => captured.push(e.query) });
const calls = {
  'get model': ['GET', '/v1/namespaces/ns-042/models/model-012342'],
  'list models, label filter': [
    'GET',
    `/v1/namespaces/ns-042/models?page_size=50&filter=${encodeURIComponent('labels.team="fraud"')}`,
  ],
  'list models, all namespaces, name prefix, newest first': [
    'GET',
    `/v1/namespaces/-/models?page_size=50&order_by=create_time%20desc&filter=${encodeURIComponent('name:"model-01*"')}`,
  ],
  'list versions, status filter': [
    'GET',
    `/v1/namespaces/ns-042/models/model-012342/versions?filter=${encodeURIComponent('status="approved"')}`,
  ],
  'batch get (3 names)': [
    'POST',
    '/v1/versions:batchGet',
    {
      names: [
        'namespaces/ns-042/models/model-012342/versions/3',
        'namespaces/ns-001/models/model-000001/versions/@champion',
        'namespaces/ns-002/models/model-000002/versions/9',
      ],
    },
  ],
};
const pg = quiver.store.dialect === 'postgres';
for (const [title, [method, url, body]] of Object.entries(calls)) {
  captured.length = 0;
  const res = await quiver.rest.inject({ method, url, headers: AUTH, ...(body ? { payload: body } : {}) });
  console.log(
    `\n### ${title} (${method} ${url.split('?')[0]} → ${res.statusCode}, ${captured.length} queries)\n`,
  );
  for (const q of [...captured]) {
    const text = inline(q, pg);
    const plan = await sql
      .raw(`${pg ? 'explain (analyze, costs off, timing off, summary off)' : 'explain query plan'} ${text}`)
      .execute(quiver.store.db);
    console.log('```sql');
    console.log(q.sql);
    console.log('```');
    console.log('```');
    console.log(
      plan.rows
        .map((r) => (pg ? r['QUERY PLAN'] : `${'  '.repeat(depth(plan.rows, r))}${r.detail}`))
        .join('\n'),
    );
    console.log('```');
  }
}
await quiver.close();

function inline(q, pg) {
  let i = 0;
  const lit = (v) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
  return pg
    ? q.sql.replace(/\$(\d+)/g, (_, n) => lit(q.parameters[Number(n) - 1]))
    : q.sql.replace(/\?/g, () => lit(q.parameters[i++]));
}
function depth(rows, r) {
  let d = 0;
  let parent = r.parent;
  while (parent) {
    d++;
    parent = rows.find((x) => x.id === parent)?.parent;
  }
  return d;
}
