import { QuiverError } from '../domain/errors.js';
import type { Signature } from '../domain/tensors.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { ModelRuntime } from '../ports/model-runtime.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';

export const FORMAT_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,31}$';
const FORMAT_RE = new RegExp(FORMAT_PATTERN);
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export interface ArtifactRef {
  digest: string;
  format?: string | undefined;
}

export interface DescribedArtifact {
  digest: string;
  size_bytes: number;
  media_type: string;
  format: string | null;
  signature: Signature | null;
}

export interface ModelArtifactDeps {
  store: UnitOfWork;
  artifacts: ArtifactStore;
  runtime: Pick<ModelRuntime, 'inspect'>;
}

/**
 * Decides the format of an artifact a version points at. ONNX (declared, or detected when no
 * format is declared) is parsed once and its signature kept on the artifact record: the bytes
 * never change under a digest, so neither does the signature. Runs outside any transaction:
 * reading and parsing a model must not hold the database's write lock.
 */
export async function describeArtifact(
  deps: ModelArtifactDeps,
  ref: ArtifactRef,
): Promise<DescribedArtifact> {
  if (typeof ref.digest !== 'string' || !DIGEST_RE.test(ref.digest)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      'artifact.digest must look like sha256:<64 lowercase hex digits>.',
      {
        details: { field: 'artifact.digest' },
      },
    );
  }
  if (ref.format !== undefined && !FORMAT_RE.test(ref.format)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `artifact.format must match ${FORMAT_PATTERN} (for example onnx).`,
      {
        details: { field: 'artifact.format' },
      },
    );
  }
  const record = await deps.store.read((repos) => repos.artifacts.get(ref.digest));
  if (!record) {
    throw new QuiverError(
      'ARTIFACT_NOT_FOUND',
      `No artifact ${ref.digest}; upload it with POST /v1/artifacts first.`,
      {
        details: { field: 'artifact.digest', resource: `artifacts/${ref.digest}` },
      },
    );
  }
  const declared = ref.format;
  if (declared !== undefined && declared !== 'onnx')
    return { ...base(record), format: declared, signature: null };
  if (record.format === 'onnx' && record.signature)
    return { ...base(record), format: 'onnx', signature: record.signature };
  let signature: Signature;
  try {
    signature = await deps.runtime.inspect(await deps.artifacts.read(record.digest));
  } catch (err) {
    if (declared === 'onnx' || !(err instanceof QuiverError) || err.reason !== 'INVALID_MODEL') {
      throw err instanceof QuiverError && err.reason === 'INVALID_MODEL'
        ? new QuiverError(
            'INVALID_MODEL',
            `artifact ${record.digest} is declared as ONNX but ${lowerFirst(err.message)}`,
            {
              details: { field: 'artifact', ...err.details, reason: 'INVALID_MODEL' },
            },
          )
        : err;
    }
    // Not declared and not readable as ONNX: an opaque artifact (it can be registered, not served).
    return { ...base(record), format: null, signature: null };
  }
  await deps.store.write((repos) => repos.artifacts.describe(record.digest, 'onnx', signature));
  return { ...base(record), format: 'onnx', signature };
}

const base = (r: { digest: string; size_bytes: number; media_type: string }) => ({
  digest: r.digest,
  size_bytes: r.size_bytes,
  media_type: r.media_type,
});

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
