import type { InferInput, InferResponse, Signature } from '@quiver/sdk';
import { useEffect, useState } from 'react';
import { ErrorNotice } from '../components/common.js';
import { modelParts, plain } from '../format.js';
import { useAsync } from '../hooks.js';
import { useSession } from '../session.js';

/** Inputs filled with ones, shaped by the signature (variable dimensions as 1). */
export function templateFor(signature: Signature | null): string {
  if (!signature)
    return '[\n  { "name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4] }\n]';
  const inputs = signature.inputs.map((s) => {
    const shape = s.shape.map((d) => (d < 0 ? 1 : d));
    const count = shape.reduce((a, b) => a * b, 1);
    return {
      name: s.name,
      datatype: s.datatype,
      shape,
      data: Array.from({ length: Math.min(count, 64) }, () => 1),
    };
  });
  // One tensor per line: long data arrays stay readable.
  return `[\n${inputs.map((i) => `  ${JSON.stringify(i)}`).join(',\n')}\n]`;
}

/** Sends an inference request to a deployment (OIP REST through the SDK) and shows the answer and its latency. */
export function Playground({ initial }: { initial: string | undefined }) {
  const { client } = useSession();
  const [deployment, setDeployment] = useState(initial ?? '');
  const [body, setBody] = useState('');
  const [answer, setAnswer] = useState<{ response: InferResponse; ms: number }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const list = useAsync((signal) => client.deployments.list({ page_size: 200 }, { signal }), [client]);

  // The template comes from the signature of the version the deployment mostly serves.
  useEffect(() => {
    if (!deployment) return;
    let live = true;
    (async () => {
      const d = await client.deployments.get(deployment);
      const [ns, model] = modelParts(d.model) ?? ['', ''];
      const version = [...d.serving].sort((a, b) => b.percent - a.percent)[0]?.version;
      const signature = version ? (await client.versions.get(ns, model, version)).signature : null;
      if (live) setBody(templateFor(signature));
    })().catch((err: unknown) => live && setError(err));
    return () => {
      live = false;
    };
  }, [client, deployment]);

  const send = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setAnswer(undefined);
    let inputs: InferInput[];
    try {
      inputs = JSON.parse(body) as InferInput[];
      if (!Array.isArray(inputs)) throw new Error('the request must be a JSON array of input tensors');
    } catch (err) {
      setError(err instanceof Error ? new Error(`Inputs: ${err.message}`) : err);
      return;
    }
    setBusy(true);
    const started = performance.now();
    try {
      const response = await client.inference.infer({ deployment, inputs });
      setAnswer({ response, ms: performance.now() - started });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="playground-title">
      <h1 id="playground-title">Inference playground</h1>
      <form onSubmit={send} className="card">
        <label htmlFor="pg-deployment">Deployment</label>
        <select
          id="pg-deployment"
          value={deployment}
          onChange={(e) => setDeployment(e.target.value)}
          required
        >
          <option value="">Choose a deployment…</option>
          {initial && !list.data?.items.some((d) => d.deployment_id === initial) ? (
            <option>{initial}</option>
          ) : null}
          {list.data?.items.map((d) => (
            <option key={d.name} value={d.deployment_id}>
              {d.deployment_id} ({d.status})
            </option>
          ))}
        </select>
        <label htmlFor="pg-inputs">Input tensors (JSON: name, datatype, shape, data row-major)</label>
        <textarea
          id="pg-inputs"
          rows={10}
          value={body}
          onChange={(e) => setBody(e.target.value)}
          spellCheck={false}
        />
        <button type="submit" className="primary" disabled={busy || !deployment}>
          {busy ? 'Running…' : 'Run inference'}
        </button>
      </form>
      <ErrorNotice error={error} />
      {answer ? (
        <div className="card" data-testid="inference-result">
          <h2>Result</h2>
          <p>
            <strong data-testid="latency">{answer.ms.toFixed(1)} ms</strong> round trip · answered by{' '}
            {answer.response.model_name} version {answer.response.model_version}
          </p>
          {answer.response.outputs.map((o) => (
            <div key={o.name}>
              <h3>
                {o.name}{' '}
                <span className="muted small">
                  {o.datatype} [{o.shape.join(', ')}]
                </span>
              </h3>
              <pre className="json">{JSON.stringify(plain(o.data))}</pre>
            </div>
          ))}
        </div>
      ) : null}
    </section>
  );
}
