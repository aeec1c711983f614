// The ceiling of this machine: a bare Fastify route answering a model-sized JSON document.
import Fastify from 'fastify';
import { applyV8Flags } from '../packages/server/dist/v8-flags.js';

// The ceiling runs with the V8 flags Quiver runs with (ADR 011), so that neither process can land in
// V8's pretenuring mode and the ratios compare like with like.
applyV8Flags({ v8Pretenuring: process.env.QUIVER_V8_PRETENURING === 'on' ? 'on' : 'off' });

const doc = {
  name: 'namespaces/ns-001/models/model-000001',
  namespace: 'namespaces/ns-001',
  model_id: 'model-000001',
  description: 'Seeded model 1',
  labels: { team: 'risk', tier: 'silver' },
  latest_version: 10,
  aliases: { challenger: 10, champion: 8 },
  uid: '01a212c0-2074-7653-b472-6bab5667af63',
  create_time: '2026-11-25T12:48:30.836Z',
  update_time: '2026-11-25T12:48:30.836Z',
  etag: '"5667af63-1"',
};
const app = Fastify();
app.get('/bare', async () => doc);
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.send?.({ ready: address });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
