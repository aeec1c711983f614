import { spawn } from 'node:child_process';
import type { Server, Socket } from 'node:net';

/**
 * More ways into one listening socket, so that a busy process accepts a burst of connections in
 * a few turns of its event loop instead of one turn per connection.
 *
 * libuv (1.45+, Node 20) accepts one connection per listening descriptor per turn of the loop
 * (libuv#3696). A server answering dozens of requests per turn turns its loop a few dozen times a
 * second, so 1,000 clients connecting at once wait tens of seconds in the kernel's queue and
 * their first requests time out. Node 22.12 can open several sockets on one port (`reusePort`);
 * on Node 20 the way to more descriptors of the same socket is to send it through a child
 * process: each copy that comes back is a new descriptor, polled on its own, and each accepts
 * one connection per turn. With `count` copies a burst is taken `count + 1` at a time.
 *
 * The price: a connection's arrival wakes every descriptor, and all but one find nothing to
 * accept (about 1 µs each here: ~30 µs per connection with 32 copies). Clients that keep their connections open (HTTP keep-alive, every
 * gRPC client, every load balancer) pay it once; clients that open a connection per request pay
 * it on each, which is why the number is configurable (`QUIVER_HTTP_ACCEPTORS`, 0 turns it off).
 */
export interface Acceptors {
  /** Copies of the listening socket in this process (0 when they could not be made). */
  readonly count: number;
  /** Stops accepting through the copies; the original listener is closed by its owner. */
  close(): Promise<void>;
}

export interface AcceptorOptions {
  count: number;
  /** The listen queue length to set again: taking each copy into use resets it to Node's 511. */
  backlog: number;
  /** Gives up on the copies (and serves with the one listener) after this long. */
  timeoutMs?: number;
}

/**
 * The child's whole program: send the listening socket back `count` times, hand over any
 * connection its own copy accepted meanwhile, then close its copy and leave.
 */
const HELPER = `
process.once('message', (message, server) => {
  const pending = new Set();
  server.on('connection', (socket) => {
    const sent = new Promise((resolve) => process.send({ quiver: 'connection' }, socket, {}, resolve));
    pending.add(sent);
  });
  let left = message.count;
  const next = () => {
    if (left-- > 0) return process.send({ quiver: 'acceptor' }, server, {}, next);
    server.close(() => Promise.all(pending).then(() => process.disconnect()));
  };
  next();
});
`;

interface HelperMessage {
  quiver?: 'acceptor' | 'connection';
}

export async function addAcceptors(listener: Server, options: AcceptorOptions): Promise<Acceptors> {
  const copies: Server[] = [];
  const close = () =>
    Promise.all(
      copies.splice(0).map((copy) => new Promise<void>((resolve) => copy.close(() => resolve()))),
    ).then(() => undefined);
  if (options.count <= 0) return { count: 0, close };
  const onConnection = (socket: Socket) => listener.emit('connection', socket);
  // spawn, not fork: none of the parent's flags (--cpu-prof, --inspect…) are the helper's business.
  const child = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no copies of the listening socket after ${options.timeoutMs ?? 10_000} ms`)),
        options.timeoutMs ?? 10_000,
      );
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`the helper process exited (${code}) after ${copies.length} copies`)),
      );
      // Connections the helper's own copy took meanwhile come over too.
      child.on('message', (message: HelperMessage, handle: unknown) => {
        if (message.quiver === 'acceptor' && isServer(handle)) {
          alike(handle, listener);
          handle.on('connection', onConnection);
          copies.push(handle);
        } else if (message.quiver === 'connection' && handle) {
          const socket = handle as Socket;
          if ((listener as unknown as { noDelay?: boolean }).noDelay) socket.setNoDelay(true);
          onConnection(socket);
        }
      });
      // The helper disconnects once it has closed its copy: from then on only this process holds the socket.
      child.once('disconnect', () => {
        clearTimeout(timer);
        if (copies.length === options.count) resolve();
        else reject(new Error(`the helper process sent ${copies.length} of ${options.count} copies`));
      });
      child.send({ count: options.count }, listener);
    });
    if (!setBacklog(listener, options.backlog)) {
      throw new Error(`could not set the listen queue back to ${options.backlog}`);
    }
    return { count: copies.length, close };
  } catch (err) {
    child.kill('SIGKILL');
    await close();
    setBacklog(listener, options.backlog);
    throw err;
  }
}

/**
 * What a net.Server reads from itself for each connection it accepts (its constructor's options:
 * an http.Server sets `noDelay`, without which Nagle's algorithm would hold back small answers).
 * A copy arrives as a plain net.Server; it must treat connections as the listener does.
 */
export const CONNECTION_OPTIONS = [
  'allowHalfOpen',
  'pauseOnConnect',
  'noDelay',
  'keepAlive',
  'keepAliveInitialDelay',
  'highWaterMark',
] as const;

function alike(copy: Server, listener: Server): void {
  const from = listener as unknown as Record<string, unknown>;
  const to = copy as unknown as Record<string, unknown>;
  for (const key of CONNECTION_OPTIONS) to[key] = from[key];
}

function isServer(handle: unknown): handle is Server {
  return typeof handle === 'object' && handle !== null && typeof (handle as Server).listen === 'function';
}

/**
 * Node's `listen(handle)` on a received copy calls listen(2) with its default queue of 511, which
 * applies to the one socket all copies share; Node has no public call to set it again, so this
 * calls the listening handle's own `listen` (as `server.listen` does).
 */
function setBacklog(server: Server, backlog: number): boolean {
  const handle = (server as unknown as { _handle?: { listen?: (backlog: number) => number } })._handle;
  return typeof handle?.listen === 'function' && handle.listen(backlog) === 0;
}
