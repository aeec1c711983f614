import { useState } from 'react';
import { ErrorNotice } from '../components/common.js';
import { isDenied } from '../format.js';
import { href, navigate } from '../router.js';
import { useSession } from '../session.js';

/** Uploads a model file (ONNX) and registers it as the model's next version. */
export function RegisterVersion({ namespace, model }: { namespace: string; model: string }) {
  const { client, deny, may } = useSession();
  const scope = `namespaces/${namespace}/models/${model}`;
  const [file, setFile] = useState<File | null>(null);
  const [description, setDescription] = useState('');
  const [progress, setProgress] = useState<string>('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (!may('versions.create', scope))
    return <p className="muted">Registering versions needs the versions.create permission on this model.</p>;

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      let artifact: { digest: string } | undefined;
      if (file) {
        const stored = await client.artifacts.upload(file, {
          mediaType: file.type || 'application/octet-stream',
          onProgress: (sent, total) => setProgress(`uploading ${sent} of ${total ?? '?'} bytes`),
        });
        artifact = { digest: stored.digest };
      }
      setProgress('registering');
      const v = await client.versions.create(namespace, model, {
        description: description || undefined,
        artifact,
      });
      navigate(href(['models', namespace, model, 'versions', v.version]));
    } catch (err) {
      if (isDenied(err)) deny('versions.create', scope);
      setError(err);
    } finally {
      setBusy(false);
      setProgress('');
    }
  };

  return (
    <details className="card">
      <summary>Register a new version</summary>
      <form onSubmit={submit}>
        <label htmlFor="model-file">Model file (ONNX)</label>
        <input
          id="model-file"
          type="file"
          accept=".onnx,application/octet-stream"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <label htmlFor="version-description">Description</label>
        <input
          id="version-description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Registering…' : 'Register version'}
        </button>
        <span className="muted" aria-live="polite">
          {progress}
        </span>
        <ErrorNotice error={error} />
      </form>
    </details>
  );
}
