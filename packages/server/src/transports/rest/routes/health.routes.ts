import type { FastifyPluginAsync } from 'fastify';
import { QuiverError } from '../../../domain/errors.js';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** `/livez`: the process answers. `/readyz`: it can do its work (database reachable, …). */
export function healthRoutes(checks: HealthCheck[]): FastifyPluginAsync {
  return async (app) => {
    app.get('/livez', { schema: { tags: ['health'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));
    app.get(
      '/readyz',
      { schema: { tags: ['health'], summary: 'Readiness: database and dependencies answer' } },
      async (req, reply) => {
        const results = await Promise.all(
          checks.map(async (c) => {
            try {
              await withTimeout(c.check(), 2_000);
              return { name: c.name, ok: true, message: 'ok' };
            } catch (err) {
              const message = err instanceof QuiverError ? err.message : 'check failed';
              req.log.warn({ err, check: c.name }, 'readiness check failed');
              return { name: c.name, ok: false, message };
            }
          }),
        );
        const ready = results.every((r) => r.ok);
        return reply
          .status(ready ? 200 : 503)
          .send({ status: ready ? 'ok' : 'unavailable', checks: results });
      },
    );
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QuiverError('DATABASE_UNAVAILABLE', `no answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
