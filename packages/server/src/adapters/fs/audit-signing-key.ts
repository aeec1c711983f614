import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditSigner } from '../../ports/audit.js';

/**
 * The Ed25519 key that signs audit checkpoints: from `QUIVER_AUDIT_SIGNING_KEY` (a PKCS#8 PEM,
 * or the base64 of its DER), else from `file`, which is created (mode 0600) on first start.
 */
export function loadAuditSigningKey(options: { value?: string | undefined; file: string }): AuditSigner {
  const key = options.value ? parseKey(options.value, 'QUIVER_AUDIT_SIGNING_KEY') : fileKey(options.file);
  return signerOf(key);
}

export function signerOf(privateKey: KeyObject): AuditSigner {
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return {
    keyId: keyIdOf(publicKeyPem),
    publicKeyPem,
    sign: (payload) => sign(null, payload, privateKey).toString('base64url'),
  };
}

/** The first 16 hex digits of SHA-256 over the public key's DER: short, stable, printable. */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function parseKey(text: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN')
      ? createPrivateKey(text)
      : createPrivateKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new Error(
      `${source} is not a PKCS#8 private key (PEM, or base64 of the DER): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${source} must be an Ed25519 key; it is ${key.asymmetricKeyType ?? 'unknown'}.`);
  }
  return key;
}

/**
 * Reads the key file, creating it when missing. The new key is written to a temporary file and
 * linked into place, so processes starting together (cluster workers) never read half a key and
 * all end up with the one that was linked first.
 */
function fileKey(file: string): KeyObject {
  try {
    return parseKey(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temp, pem, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(temp, { force: true });
  }
  return parseKey(readFileSync(file, 'utf8'), file);
}
