import type { Operation } from '@quiver/sdk';
import { useEffect, useState } from 'react';
import { ErrorNotice } from '../components/common.js';
import { useSession } from '../session.js';

/**
 * Follows an operation live over its watch stream (Server-Sent Events through the SDK) and
 * calls `onDone` once it finishes, successfully or not.
 */
export function OperationProgress({ name, onDone }: { name: string; onDone: () => void }) {
  const { client } = useSession();
  const [op, setOp] = useState<Operation>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    const controller = new AbortController();
    (async () => {
      try {
        for await (const o of client.operations.watch(name, { signal: controller.signal })) {
          setOp(o);
          if (o.done) onDone();
        }
      } catch (err) {
        if (!controller.signal.aborted) setError(err);
      }
    })();
    return () => controller.abort();
  }, [client, name, onDone]);

  const progress = op?.metadata.progress ?? 0;
  const state = !op ? 'connecting' : !op.done ? 'running' : op.error ? 'failed' : 'done';
  return (
    <div className="card operation" data-testid="operation" data-state={state}>
      <h2>Rollout {state === 'running' || state === 'connecting' ? 'in progress' : state}</h2>
      <progress max={100} value={progress} aria-label="Rollout progress">
        {progress}%
      </progress>
      <p aria-live="polite">
        {progress}% · {op?.metadata.message ?? 'connecting to the watch stream…'}
      </p>
      <p className="muted small">{name}</p>
      {op?.error ? (
        <p className="error" role="alert">
          {op.error.code}: {op.error.message}
        </p>
      ) : null}
      <ErrorNotice error={error} />
    </div>
  );
}
