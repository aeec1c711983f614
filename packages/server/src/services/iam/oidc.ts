import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { QuiverError } from '../../domain/errors.js';

export interface OidcOptions {
  issuer: string;
  audience: string;
  /** The claim holding the caller's groups (an array of strings, or one string). */
  groupsClaim: string;
  /** Where the keys are; default: the `jwks_uri` of the issuer's discovery document. */
  jwksUri?: string | undefined;
}

/** Who a verified JWT says the caller is. */
export interface OidcIdentity {
  /** `issuer|sub`: the stable key a principal is mapped by. */
  subject: string;
  sub: string;
  displayName: string;
  groups: string[];
  /** Epoch ms of `exp`. */
  expiresAt: number;
}

/**
 * Asymmetric algorithms only: a key set fetched from the issuer holds public keys, and
 * accepting `HS*` would let anyone sign with the public key as the HMAC secret; `none` is
 * never accepted by jose's verifier.
 */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Verifies OIDC access/ID tokens against the issuer's JWKS (jose caches keys and refetches on rotation). */
export class OidcVerifier {
  #keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(private readonly options: OidcOptions) {}

  async verify(jwt: string): Promise<OidcIdentity> {
    const keys = await this.#keySet();
    try {
      const { payload } = await jwtVerify(jwt, keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...JWT_ALGORITHMS],
        requiredClaims: ['sub', 'exp'],
      });
      const sub = payload.sub!;
      const raw = payload[this.options.groupsClaim];
      const groups = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).filter(
        (g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 256,
      );
      const name = [payload.name, payload.email, payload.preferred_username, sub].find(
        (v): v is string => typeof v === 'string' && v.length > 0,
      )!;
      return {
        subject: `${this.options.issuer}|${sub}`,
        sub,
        displayName: name.slice(0, 200),
        groups,
        expiresAt: payload.exp! * 1000,
      };
    } catch (err) {
      throw jwtError(err);
    }
  }

  /** Discovery happens once, on the first JWT; a failure is retried on the next one. */
  #keySet(): Promise<JWTVerifyGetKey> {
    this.#keys ??= this.#discover().catch((err: unknown) => {
      this.#keys = undefined;
      throw new QuiverError(
        'IDENTITY_PROVIDER_UNAVAILABLE',
        `The OIDC issuer ${this.options.issuer} could not be reached to read its keys; retry later.`,
        { cause: err },
      );
    });
    return this.#keys;
  }

  async #discover(): Promise<JWTVerifyGetKey> {
    let uri = this.options.jwksUri;
    if (!uri) {
      const url = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (doc.issuer !== this.options.issuer)
        throw new Error(`the discovery document names issuer ${String(doc.issuer)}`);
      if (typeof doc.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
      uri = doc.jwks_uri;
    }
    return createRemoteJWKSet(new URL(uri), { timeoutDuration: 5_000 });
  }
}

function jwtError(err: unknown): QuiverError {
  if (err instanceof QuiverError) return err;
  if (err instanceof errors.JWTExpired) return new QuiverError('TOKEN_EXPIRED', 'The JWT has expired.');
  if (err instanceof errors.JWKSTimeout || (err instanceof Error && err.name === 'TypeError')) {
    return new QuiverError(
      'IDENTITY_PROVIDER_UNAVAILABLE',
      'The OIDC key set could not be fetched; retry later.',
      {
        cause: err,
      },
    );
  }
  const why = err instanceof errors.JOSEError ? err.message : 'it could not be parsed';
  return new QuiverError('TOKEN_INVALID', `The JWT was rejected: ${why}.`, { cause: err });
}
