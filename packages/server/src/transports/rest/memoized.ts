import type { FastifyReply } from 'fastify';

const bodies = new WeakMap<object, string>();

/**
 * Sends `view(value)` as JSON, serialising it once per cached value. Values the read cache hands
 * out are frozen and shared by every request until a change replaces them, so their JSON is too:
 * it is kept beside them (weakly: it goes when the cache drops the value). The route's own
 * response schema produces the text, so the wire is the same as without the memo.
 */
export function sendMemoized(reply: FastifyReply, value: object, view: () => unknown): FastifyReply {
  if (!Object.isFrozen(value)) return reply.send(view());
  let body = bodies.get(value);
  if (body === undefined) {
    body = String(reply.serialize(view()));
    bodies.set(value, body);
  }
  return reply.type('application/json; charset=utf-8').send(body);
}
