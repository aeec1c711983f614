import type { Readable } from 'node:stream';
import { context, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import type { ArtifactStore, PutOptions, StoredArtifact } from '../ports/artifact-store.js';
import type { CacheStats, ReadCache } from '../ports/cache.js';
import { withSpan } from './tracing.js';

/**
 * Decorators that add spans around a port. main.ts installs them only when tracing is on, so an
 * instance without exporters calls the adapters directly and pays nothing.
 */

/** True when the active context carries a span that records: only traced operations get child spans. */
const inRecordingSpan = () => trace.getSpan(context.active())?.isRecording() === true;

/** The first word of a cache key (`model`, `version`, `models`): bounded, and without the request's JSON. */
const keyKind = (key: string) => key.slice(0, Math.max(0, key.indexOf(' '))) || key;

/**
 * `cache.get` (with `quiver.cache.hit`) and `cache.fill` spans inside traced requests. The read
 * cache itself is untouched: the decorator only observes its answers.
 */
export function tracedReadCache(cache: ReadCache, tracer: Tracer): ReadCache {
  return {
    get enabled() {
      return cache.enabled;
    },
    ticket: () => cache.ticket(),
    get<T>(key: string): T | undefined {
      const value = cache.get<T>(key);
      // A lookup is a map read: an attribute on the request's span, not a span of its own (a
      // span per hit was most of the cost of tracing a cached read at 100% sampling).
      const active = inRecordingSpan() ? trace.getActiveSpan() : undefined;
      active?.setAttribute(`quiver.cache.${keyKind(key)}.hit`, value !== undefined);
      return value;
    },
    set(key, value, tags, ticket) {
      if (!inRecordingSpan()) return cache.set(key, value, tags, ticket);
      const span = tracer.startSpan('cache.fill', { attributes: { 'quiver.cache.key_kind': keyKind(key) } });
      try {
        cache.set(key, value, tags, ticket);
      } finally {
        span.end();
      }
    },
    getMember<T>(key: string, member: string): T | undefined {
      const value = cache.getMember<T>(key, member);
      const active = inRecordingSpan() ? trace.getActiveSpan() : undefined;
      active?.setAttribute(`quiver.cache.${keyKind(key)}.hit`, value !== undefined);
      return value;
    },
    setMember(key, member, value, tags, ticket) {
      if (!inRecordingSpan()) return cache.setMember(key, member, value, tags, ticket);
      const span = tracer.startSpan('cache.fill', { attributes: { 'quiver.cache.key_kind': keyKind(key) } });
      try {
        cache.setMember(key, member, value, tags, ticket);
      } finally {
        span.end();
      }
    },
    // Bulk fills are many per request: no span each (the request's span covers them).
    offer: (key, value, tags, ticket) => cache.offer(key, value, tags, ticket),
    offerMember: (key, member, value, tags, ticket) => cache.offerMember(key, member, value, tags, ticket),
    invalidate: (tags) => cache.invalidate(tags),
    stats: (): CacheStats => cache.stats(),
    close: () => cache.close(),
  };
}

/** An `artifact.put` span (digest and size once known) around each upload to the artifact store. */
export function tracedArtifactStore(store: ArtifactStore, tracer: Tracer): ArtifactStore {
  return {
    put: (body: Readable, options: PutOptions): Promise<StoredArtifact> =>
      withSpan(
        tracer,
        'artifact.put',
        {},
        async (span) => {
          const stored = await store.put(body, options);
          span?.setAttributes({
            'quiver.artifact.digest': stored.digest,
            'quiver.artifact.size_bytes': stored.size_bytes,
            'quiver.artifact.created': stored.created,
          });
          return stored;
        },
        SpanKind.INTERNAL,
      ),
    stat: (digest) => store.stat(digest),
    open: (digest, range) => store.open(digest, range),
    read: (digest) => store.read(digest),
    ping: () => store.ping(),
  };
}
