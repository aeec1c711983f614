/**
 * Stream plumbing for uploads, downloads and watches, with Web Streams only (no Node
 * built-ins), so it runs wherever `fetch` does.
 */

export function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * An async iterable of chunks (a Node file stream, a generator) as a ReadableStream that pulls
 * one chunk at a time, so nothing is read ahead of what the consumer takes.
 */
export function iterableStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else if (value.byteLength > 0) controller.enqueue(value);
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Bytes as a stream of `chunkBytes` slices (views, not copies), so progress can be reported as they go. */
export function bytesStream(bytes: Uint8Array, chunkBytes = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (at >= bytes.byteLength) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.subarray(at, at + chunkBytes));
        at += chunkBytes;
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Passes a stream through, one chunk per read of the consumer: `onChunk` sees each chunk as
 * it is taken, and `mapError` turns a failed read into the error the consumer should see.
 */
export function relay(
  source: ReadableStream<Uint8Array>,
  hooks: {
    /** Sees each chunk before the consumer does; throwing errors the stream with that error. */
    onChunk?: (chunk: Uint8Array) => void;
    /** Runs when the source ends; throwing errors the stream instead of closing it. */
    onEnd?: () => void;
    mapError?: (err: unknown) => unknown;
  },
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
        } catch (err) {
          controller.error(hooks.mapError ? hooks.mapError(err) : err);
          return;
        }
        try {
          if (result.done) hooks.onEnd?.();
          else hooks.onChunk?.(result.value);
        } catch (err) {
          controller.error(err);
          await reader.cancel(err).catch(() => {});
          return;
        }
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

let requestStreams: boolean | undefined;

/**
 * Whether this runtime's `fetch` can send a ReadableStream as a request body (`duplex: 'half'`):
 * Node ≥ 18, Deno, Chromium ≥ 105 (over HTTP/2). Detected the way the Fetch spec intends:
 * a runtime without support ignores `duplex` and turns the stream into the text "[object ReadableStream]".
 */
export function requestStreamsSupported(): boolean {
  if (requestStreams !== undefined) return requestStreams;
  // Browsers that accept a stream body send it only over HTTP/2 (Chromium fails it on HTTP/1.1,
  // which is what `quiver serve` speaks), so streaming is the default in Node.js only.
  const runtime = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!runtime?.versions?.node) {
    requestStreams = false;
    return requestStreams;
  }
  try {
    let duplexRead = false;
    const init = {
      method: 'POST',
      body: new ReadableStream(),
      get duplex() {
        duplexRead = true;
        return 'half';
      },
    };
    const hasContentType = new Request('http://localhost/', init as RequestInit).headers.has('content-type');
    requestStreams = duplexRead && !hasContentType;
  } catch {
    requestStreams = false;
  }
  return requestStreams;
}

/**
 * Server-Sent Events from a byte stream (the `text/event-stream` format): yields one event per
 * blank-line-terminated block; comments (`: keep-alive`) are skipped. Stops reading (and
 * cancels the stream) when the consumer stops iterating.
 */
export async function* serverSentEvents(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string; id: string | undefined }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let id: string | undefined;
  let data: string[] = [];
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
        else if (field === 'id') id = text;
      }
      if (done) {
        finished = true;
        return; // an event cut off by the end of the stream is dropped, as the format says
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * Lines of a byte stream (JSON Lines, `application/x-ndjson`), without their line ends; empty
 * lines are skipped. Stops reading (and cancels the stream) when the consumer stops iterating.
 */
export async function* textLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = buffer.split('\n');
      buffer = done ? '' : lines.pop()!;
      for (const line of lines) {
        const text = line.replace(/\r$/, '');
        if (text) yield text;
      }
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
