import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditCheckpoint,
  type AuditEvent,
  type AuditEventBody,
  canonicalJson,
  checkpointPayload,
  checkpointSignatureValid,
  GENESIS_HASH,
  hashEvent,
  seal,
  sealedText,
  sealParts,
  verifyChain,
} from '../../src/domain/audit-chain.js';

const T0 = Date.UTC(2026, 0, 1);

const text = fc.string({ minLength: 1, maxLength: 12 });
const json = fc.jsonValue({ maxDepth: 2 });
const body = fc.record({
  principal: text,
  action: fc.constantFrom('CreateVersion', 'TransitionVersion', 'SetAlias', 'ReadAudit'),
  resource: text,
  outcome: fc.constantFrom('success', 'denied', 'failed'),
  permission: fc.option(text, { nil: null }),
  request_id: text,
  trace_id: fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: null }),
  client_address: fc.option(fc.ipV4(), { nil: null }),
  change_digest: fc.option(text, { nil: null }),
  details: fc.option(fc.dictionary(text, json, { maxKeys: 3 }), { nil: null }),
});

/** A chain of n ≥ min events, sealed one after another as the service does. */
const chainOf = (min: number) =>
  fc.array(body, { minLength: min, maxLength: 25 }).map((bodies) => {
    const events: AuditEvent[] = [];
    let head = { seq: 0, hash: GENESIS_HASH };
    bodies.forEach((b, i) => {
      const event = seal(head, { ...b, time: new Date(T0 + i * 1000).toISOString() });
      events.push(event);
      head = event;
    });
    return events;
  });

const noCheckpoints = { signatureValid: () => true };
const verify = (
  events: AuditEvent[],
  checkpoints: AuditCheckpoint[] = [],
  head?: { seq: number; hash: string },
) => verifyChain(events, checkpoints, { ...noCheckpoints, ...(head ? { head } : {}) });

/** What a malicious administrator does after dropping the triggers: rows changed in place. */
const swapSeq = (events: AuditEvent[], i: number) => {
  const out = events.slice();
  out[i] = { ...events[i + 1]!, seq: events[i]!.seq };
  out[i + 1] = { ...events[i]!, seq: events[i + 1]!.seq };
  return out;
};

describe('canonical form', () => {
  it('does not depend on the order in which keys were written', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(JSON.parse(canonicalJson(obj))).toEqual(JSON.parse(JSON.stringify(obj)));
      }),
    );
  });

  it('covers every field, seq and prev_hash included', () => {
    fc.assert(
      fc.property(chainOf(1), fc.string({ minLength: 1 }), (events, junk) => {
        const event = events[0]!;
        for (const field of Object.keys(event).filter((k) => k !== 'hash') as (keyof AuditEventBody)[]) {
          const changed = {
            ...event,
            [field]: field === 'seq' ? event.seq + 1 : `${JSON.stringify(event[field])}${junk}`,
          };
          expect(hashEvent(changed), field).not.toBe(event.hash);
        }
      }),
    );
  });
});

describe('event hash', () => {
  it('is SHA-256 over prev_hash then the canonical form, as every chain stored so far was sealed', () => {
    fc.assert(
      fc.property(
        body,
        fc.stringMatching(/^[0-9a-f]{64}$/),
        fc.integer({ min: 1, max: 1e9 }),
        (b, prev, seq) => {
          const event: AuditEventBody = { ...b, seq, time: new Date(T0).toISOString(), prev_hash: prev };
          // The two-step form the chain was defined with (and earlier releases computed).
          const stepwise = createHash('sha256').update(prev).update(canonicalJson(event)).digest('hex');
          expect(hashEvent(event)).toBe(stepwise);
        },
      ),
    );
  });
});

describe('seal parts (the chain sealed by the database, at commit)', () => {
  it('rebuild exactly the text the event hash covers, whatever the head and the fields', () => {
    // Hostile fields included: quotes, backslashes, the key names themselves, non-ASCII text.
    const tricky = fc.constantFrom(
      '"prev_hash":"',
      '"seq":',
      '\\',
      'ünïcødé ✓',
      '{"a":1}',
      '',
      // The fixed placeholders themselves, which sealParts must then not use.
      'quiver-seal-p',
      'quiver-seal-s',
    );
    fc.assert(
      fc.property(
        body,
        fc.option(tricky, { nil: undefined }),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }),
        (b, trick, prev, seq) => {
          const fields = { ...b, ...(trick === undefined ? {} : { resource: trick, principal: trick }) };
          const withTime = { ...fields, time: new Date(T0).toISOString() };
          const event = seal({ seq, hash: prev }, withTime);
          const text = sealedText({ seq, hash: prev }, sealParts(withTime));
          expect(text).toBe(prev + canonicalJson({ ...withTime, seq: seq + 1, prev_hash: prev }));
          expect(createHash('sha256').update(text).digest('hex')).toBe(event.hash);
        },
      ),
    );
  });
});

describe('verifyChain', () => {
  it('proves an untouched chain intact, counting every event', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(0), async (events) => {
        const head = events.at(-1) ?? { seq: 0, hash: GENESIS_HASH };
        expect(await verify(events, [], head)).toEqual({
          valid: true,
          events_checked: events.length,
          checkpoints_checked: 0,
        });
      }),
    );
  });

  it('names a modified event', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(1), fc.nat(), text, async (events, pick, forged) => {
        const i = pick % events.length;
        const tampered = events.slice();
        tampered[i] = { ...events[i]!, principal: `${events[i]!.principal}${forged}` };
        const result = await verify(tampered);
        expect(result.valid).toBe(false);
        expect(result.first_invalid).toMatchObject({ seq: i + 1, reason: 'modified' });
        expect(result.events_checked).toBe(i);
      }),
    );
  });

  it('names a modified event whose hash was recomputed by the one after it', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(2), fc.nat(), async (events, pick) => {
        const i = pick % (events.length - 1);
        const tampered = events.slice();
        const { hash: _old, ...rest } = { ...events[i]!, resource: `${events[i]!.resource}-forged` };
        tampered[i] = { ...rest, hash: hashEvent(rest) };
        expect((await verify(tampered)).first_invalid).toMatchObject({ seq: i + 1, reason: 'modified' });
      }),
    );
  });

  it('names a deleted event, whether the gap is left or the rest renumbered', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(2), fc.nat(), async (events, pick) => {
        const i = pick % (events.length - 1);
        const gap = [...events.slice(0, i), ...events.slice(i + 1)];
        expect((await verify(gap)).first_invalid).toMatchObject({ seq: i + 1, reason: 'deleted' });
        const renumbered = gap.map((e, j) => (j >= i ? { ...e, seq: e.seq - 1 } : e));
        expect((await verify(renumbered)).first_invalid).toMatchObject({ seq: i + 1, reason: 'deleted' });
      }),
    );
  });

  it('names a deleted tail when the head or a checkpoint still knows it', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(2), async (events) => {
        const head = events.at(-1)!;
        const cut = events.slice(0, -1);
        expect((await verify(cut, [], head)).first_invalid).toMatchObject({
          seq: head.seq,
          reason: 'deleted',
        });
      }),
    );
  });

  it('names an inserted event, forged with valid hashes or not', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(2), fc.nat(), body, async (events, pick, forgedBody) => {
        const i = 1 + (pick % (events.length - 1)); // after event i (1-based), before event i+1
        const forged = seal(events[i - 1]!, { ...forgedBody, time: events[i - 1]!.time });
        const shifted = events.slice(i).map((e) => ({ ...e, seq: e.seq + 1 }));
        const sealed = [...events.slice(0, i), forged, ...shifted];
        expect((await verify(sealed)).first_invalid).toMatchObject({ seq: i + 1, reason: 'inserted' });
        const careless = [...events.slice(0, i), { ...forged, hash: 'f'.repeat(64) }, ...shifted];
        expect((await verify(careless)).first_invalid).toMatchObject({ seq: i + 1, reason: 'inserted' });
      }),
    );
  });

  it('names the first of two reordered events', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(2), fc.nat(), async (events, pick) => {
        const i = pick % (events.length - 1);
        const result = await verify(swapSeq(events, i));
        expect(result.first_invalid).toMatchObject({ seq: i + 1, reason: 'reordered' });
      }),
    );
  });
});

describe('checkpoints', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signed = (event: AuditEvent): AuditCheckpoint => {
    const unsigned = { seq: event.seq, hash: event.hash, time: event.time, key_id: 'k1' };
    return {
      ...unsigned,
      signature: sign(null, checkpointPayload(unsigned), privateKey).toString('base64url'),
    };
  };
  const options = { signatureValid: (cp: AuditCheckpoint) => checkpointSignatureValid(cp, pem) };

  it('checks every checkpoint against the event it signs', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(1), fc.uniqueArray(fc.nat(), { maxLength: 5 }), async (events, picks) => {
        const cps = [...new Set(picks.map((p) => p % events.length))]
          .sort((a, b) => a - b)
          .map((i) => signed(events[i]!));
        expect(await verifyChain(events, cps, options)).toEqual({
          valid: true,
          events_checked: events.length,
          checkpoints_checked: cps.length,
        });
      }),
    );
  });

  it('catches a checkpoint whose signature or signed hash was changed', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(1), fc.nat(), async (events, pick) => {
        const cp = signed(events[pick % events.length]!);
        const flipped = `${cp.signature[0] === 'A' ? 'B' : 'A'}${cp.signature.slice(1)}`;
        expect(
          (await verifyChain(events, [{ ...cp, signature: flipped }], options)).first_invalid,
        ).toMatchObject({
          seq: cp.seq,
          reason: 'checkpoint_signature',
        });
        expect(
          (await verifyChain(events, [{ ...cp, hash: GENESIS_HASH }], options)).first_invalid,
        ).toMatchObject({
          seq: cp.seq,
          reason: 'checkpoint_signature',
        });
      }),
    );
  });

  it('catches an event rewritten with recomputed hashes up to the end, when a checkpoint signed it', async () => {
    await fc.assert(
      fc.asyncProperty(chainOf(1), async (events) => {
        const cp = signed(events.at(-1)!);
        // Rewrite the whole chain from event 1 on, with valid hashes: only the signature can tell.
        let head = { seq: 0, hash: GENESIS_HASH };
        const rewritten = events.map((e) => {
          const { seq: _s, prev_hash: _p, hash: _h, ...rest } = e;
          const next = seal(head, { ...rest, principal: `${rest.principal}!` });
          head = next;
          return next;
        });
        expect((await verifyChain(rewritten, [cp], options)).first_invalid).toMatchObject({
          seq: cp.seq,
          reason: 'checkpoint_mismatch',
        });
      }),
    );
  });

  it('reports progress while walking a long chain', async () => {
    const events = fc.sample(chainOf(25), 1)[0]!;
    const seen: number[] = [];
    await verifyChain(events, [], { ...noCheckpoints, progressEvery: 10, onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([10, 20, events.length]);
  });
});
