import { QuiverError } from '../domain/errors.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext } from './context.js';
import { type Operation, toOperation } from './deployment.service.js';

const OPERATION_ID = /^[0-9a-f-]{36}$/;

export class OperationService {
  constructor(private readonly deps: { store: UnitOfWork; pollMs?: number }) {}

  async get(_ctx: CallContext, id: string): Promise<Operation> {
    if (!OPERATION_ID.test(id)) {
      throw new QuiverError('INVALID_NAME', 'An operation id is the UUID after operations/ in its name.', {
        details: { field: 'operation' },
      });
    }
    const op = await this.deps.store.read((repos) => repos.operations.get(id));
    if (!op) {
      throw new QuiverError('OPERATION_NOT_FOUND', `Operation '${id}' does not exist.`, {
        details: { resource: `operations/${id}` },
      });
    }
    return toOperation(op);
  }

  /**
   * Yields the operation now and whenever it changes, until it is done or `signal` aborts.
   * Reads the database, so it follows work done by workers in other processes.
   */
  async *watch(ctx: CallContext, id: string, signal: AbortSignal): AsyncGenerator<Operation> {
    let last = '';
    while (!signal.aborted) {
      const op = await this.get(ctx, id);
      const text = JSON.stringify(op);
      if (text !== last) {
        last = text;
        yield op;
      }
      if (op.done) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.deps.pollMs ?? 100);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
