import { QuiverError } from './errors.js';

/** Parses `grpcUrl` into a grpc-js target and whether to use TLS. */
export function grpcTarget(url: string): { target: string; tls: boolean } {
  const match = /^(?:(grpcs?|https?):\/\/)?([^/\s]+)\/?$/i.exec(url.trim());
  if (!match?.[2]) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `grpcUrl must be host:port or grpc[s]://host:port; got ${JSON.stringify(url)}.`,
      { details: { field: 'grpcUrl' } },
    );
  }
  const scheme = match[1]?.toLowerCase();
  return { target: match[2], tls: scheme === 'grpcs' || scheme === 'https' };
}
