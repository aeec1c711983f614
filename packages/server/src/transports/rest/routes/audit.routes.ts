import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { INVALID_REASONS } from '../../../domain/audit-chain.js';
import { QuiverError } from '../../../domain/errors.js';
import { AUDIT_OUTCOMES } from '../../../ports/audit.js';
import type { AuditService } from '../../../services/audit.service.js';
import { callContext } from '../app.js';
import { envelope } from '../errors.js';
import { errorResponses, PageQuery } from '../schemas.js';

const tags = ['audit'];
const Strict = { additionalProperties: false } as const;
const Nullable = (description: string) => Type.Union([Type.String(), Type.Null()], { description });

const AuditEvent = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'Position in the chain: 1, 2, 3… without gaps.' }),
    time: Type.String({ format: 'date-time' }),
    principal: Type.String({ description: 'Who: a principal id, or `anonymous`.' }),
    action: Type.String({ examples: ['CreateVersion'] }),
    resource: Type.String({ examples: ['namespaces/fraud/models/scorer/versions/3'] }),
    outcome: Type.Union(AUDIT_OUTCOMES.map((o) => Type.Literal(o))),
    permission: Nullable('The permission that was checked, when one was.'),
    request_id: Type.String(),
    trace_id: Nullable('W3C trace id of the request, when tracing is on.'),
    client_address: Nullable('The caller’s address as the server saw it.'),
    change_digest: Nullable('SHA-256 (base64url) of the change’s canonical request, for mutations.'),
    details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    prev_hash: Type.String({ description: 'The hash of event seq-1 (64 zeros for the first).' }),
    hash: Type.String({
      description:
        'hex SHA-256 of prev_hash followed by the canonical JSON of every other field (docs/security.md).',
    }),
  },
  // Inline, not a shared $id: schemas added inside a plugin would swap in Fastify's default
  // validator there, which strips unknown query parameters instead of rejecting them.
  { title: 'AuditEvent' },
);

const Checkpoint = Type.Object(
  {
    seq: Type.Integer({ description: 'The event whose hash is signed (the head at the time).' }),
    hash: Type.String(),
    time: Type.String({ format: 'date-time' }),
    key_id: Type.String(),
    signature: Type.String({
      description: 'Ed25519 signature (base64url) of the canonical JSON of seq, hash, time, key_id.',
    }),
  },
  { title: 'AuditCheckpoint' },
);

const Verification = Type.Object({
  valid: Type.Boolean(),
  events_checked: Type.Integer(),
  checkpoints_checked: Type.Integer(),
  head_seq: Type.Integer({
    description: 'The head the walk went to; later events are left for the next run.',
  }),
  key_ids: Type.Array(Type.String(), { description: 'The keys whose checkpoints were checked.' }),
  first_invalid: Type.Optional(
    Type.Object({
      seq: Type.Integer(),
      reason: Type.Union(INVALID_REASONS.map((r) => Type.Literal(r))),
      message: Type.String(),
    }),
  ),
});

const EventFilters = {
  principal: Type.Optional(Type.String({ maxLength: 1000 })),
  resource: Type.Optional(
    Type.String({
      maxLength: 1000,
      description:
        'Exact resource name; a trailing `*` matches every name starting with the rest (`namespaces/fraud/*`).',
    }),
  ),
  action: Type.Optional(Type.String({ maxLength: 1000, examples: ['TransitionVersion'] })),
  outcome: Type.Optional(Type.Union(AUDIT_OUTCOMES.map((o) => Type.Literal(o)))),
  since: Type.Optional(Type.String({ description: 'RFC 3339; events at or after it.' })),
  until: Type.Optional(Type.String({ description: 'RFC 3339; events before it.' })),
};

const EventsQuery = Type.Object(
  {
    ...EventFilters,
    order_by: Type.Optional(Type.String({ maxLength: 100, description: '`seq` (default) or `seq desc`.' })),
    page_size: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    page_token: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  Strict,
);

export function auditRoutes(audit: AuditService): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/audit/events',
      {
        schema: {
          tags,
          summary: 'List audit events (oldest first; filters by principal, resource, action, outcome, time)',
          querystring: EventsQuery,
          response: {
            200: Type.Object({ events: Type.Array(AuditEvent), next_page_token: Type.String() }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const page = await audit.list(callContext(req), req.query);
        return { events: page.items, next_page_token: page.next_page_token };
      },
    );

    app.get(
      '/audit/events::export',
      {
        schema: {
          tags,
          summary: 'Export audit events as JSON Lines (one event per line, in seq order, streamed)',
          querystring: Type.Object(EventFilters, Strict),
          response: {
            200: { description: 'application/x-ndjson: one AuditEvent per line.', type: 'string' },
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const events = await audit.exportEvents(callContext(req), req.query);
        const lines = Readable.from(
          (async function* () {
            for await (const event of events) yield `${JSON.stringify(event)}\n`;
          })(),
        );
        return reply.type('application/x-ndjson; charset=utf-8').send(lines);
      },
    );

    app.get(
      '/audit::verify',
      {
        schema: {
          tags,
          summary: 'Verify the whole chain and every checkpoint signature; names the first invalid event',
          description:
            'With `Accept: text/event-stream` the answer is Server-Sent Events: `progress` events (`{ events_checked, total }`) and a final `result` event.',
          response: { 200: Verification, ...errorResponses },
        },
      },
      async (req, reply) => {
        const ctx = callContext(req);
        if (!String(req.headers.accept ?? '').includes('text/event-stream')) return audit.verify(ctx);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          'x-request-id': req.id,
        });
        try {
          const result = await audit.verify(ctx, (events_checked, total) =>
            res.write(`event: progress\ndata: ${JSON.stringify({ events_checked, total })}\n\n`),
          );
          res.write(`event: result\ndata: ${JSON.stringify(result)}\n\n`);
        } catch (err) {
          res.write(`event: error\ndata: ${JSON.stringify(envelope(QuiverError.from(err), req.id))}\n\n`);
        } finally {
          res.end();
        }
        return reply;
      },
    );

    app.get(
      '/audit/public-key',
      {
        schema: {
          tags,
          summary: 'The public key that signs checkpoints (PEM) and its key id',
          response: {
            200: Type.Object({
              key_id: Type.String(),
              algorithm: Type.Literal('Ed25519'),
              public_key: Type.String({ description: 'SPKI PEM.' }),
            }),
            ...errorResponses,
          },
        },
      },
      async () => audit.publicKey(),
    );

    app.get(
      '/audit/checkpoints',
      {
        schema: {
          tags,
          summary: 'List signed checkpoints of the chain (oldest first)',
          querystring: PageQuery,
          response: {
            200: Type.Object({
              checkpoints: Type.Array(Checkpoint),
              next_page_token: Type.String(),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const page = await audit.checkpoints(callContext(req), req.query);
        return { checkpoints: page.items, next_page_token: page.next_page_token };
      },
    );

    app.post(
      '/audit::checkpoint',
      {
        schema: {
          tags,
          summary:
            'Sign the chain head now: 201 with the new checkpoint, or 200 with the last one when the head has not moved',
          response: { 200: Checkpoint, 201: Checkpoint, ...errorResponses },
        },
      },
      async (req, reply) => {
        const { checkpoint, created } = await audit.checkpoint(callContext(req));
        return reply.status(created ? 201 : 200).send(checkpoint);
      },
    );
  };
}
