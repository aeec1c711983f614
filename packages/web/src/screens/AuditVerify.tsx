import type { AuditCheckpoint, AuditVerification } from '@quiver/sdk';
import { useState } from 'react';
import { ErrorNotice } from '../components/common.js';
import { when } from '../format.js';
import { useAsync } from '../hooks.js';
import { useSession } from '../session.js';

/** The newest checkpoint: checkpoints are listed oldest first, so walk to the last page. */
async function latestCheckpoint(
  list: (token: string | undefined) => Promise<{ items: AuditCheckpoint[]; next_page_token: string }>,
): Promise<AuditCheckpoint | undefined> {
  let token: string | undefined;
  let last: AuditCheckpoint | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await list(token);
    last = page.items.at(-1) ?? last;
    if (!page.next_page_token) break;
    token = page.next_page_token;
  }
  return last;
}

/** Has the server walk the hash chain and check every signed checkpoint; shows the latest one and the key. */
export function AuditVerify() {
  const { client } = useSession();
  const [verdict, setVerdict] = useState<AuditVerification>();
  const [progress, setProgress] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const checkpoint = useAsync(
    (signal) =>
      latestCheckpoint((page_token) =>
        client.audit.listCheckpoints({ page_size: 1000, page_token }, { signal }),
      ),
    [client, verdict],
  );
  const key = useAsync((signal) => client.audit.publicKey({ signal }), [client]);

  const verify = async () => {
    setBusy(true);
    setError(undefined);
    setVerdict(undefined);
    try {
      setVerdict(
        await client.audit.verify({
          onProgress: (n, total) => setProgress(`${n} of ${total} events checked`),
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setProgress('');
    }
  };

  const cp = checkpoint.data;
  return (
    <section className="card" aria-labelledby="verify-title">
      <h2 id="verify-title">Chain verification</h2>
      <button type="button" className="primary" onClick={verify} disabled={busy}>
        {busy ? 'Verifying…' : 'Verify the chain'}
      </button>{' '}
      <span aria-live="polite">{progress}</span>
      {verdict ? (
        <p data-testid="verify-result" className={verdict.valid ? 'ok' : 'error'} role="status">
          {verdict.valid
            ? `Intact: ${verdict.events_checked} events and ${verdict.checkpoints_checked} signed checkpoint${verdict.checkpoints_checked === 1 ? '' : 's'} verified up to seq ${verdict.head_seq}.`
            : `Broken at seq ${verdict.first_invalid?.seq} (${verdict.first_invalid?.reason}): ${verdict.first_invalid?.message}`}
          {verdict.key_ids.length > 0 ? ` Keys: ${verdict.key_ids.join(', ')}.` : ''}
        </p>
      ) : null}
      <ErrorNotice error={error} />
      <dl className="facts">
        <dt>Latest checkpoint</dt>
        <dd data-testid="checkpoint">
          {cp ? (
            <>
              seq {cp.seq} at {when(cp.time)} · hash <code>{cp.hash.slice(0, 16)}…</code> · signed by{' '}
              {cp.key_id}
              <details>
                <summary>Signature</summary>
                <code className="wrap">{cp.signature}</code>
              </details>
            </>
          ) : checkpoint.error ? (
            <ErrorNotice error={checkpoint.error} />
          ) : (
            <span className="muted">{checkpoint.loading ? 'loading…' : 'none yet'}</span>
          )}
        </dd>
        <dt>Signing key</dt>
        <dd>
          {key.data ? (
            <>
              {key.data.key_id} ({key.data.algorithm})
              <details>
                <summary>Public key (PEM)</summary>
                <pre className="json">{key.data.public_key}</pre>
              </details>
            </>
          ) : (
            <ErrorNotice error={key.error} />
          )}
        </dd>
      </dl>
    </section>
  );
}
