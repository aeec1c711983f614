import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addAcceptors } from '../../src/transports/acceptors.js';

const BACKLOG = 2048;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listening(options: { allowHalfOpen?: boolean } = {}) {
  const accepted: Socket[] = [];
  const server = createServer(options, (socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve) =>
    server.listen({ host: '127.0.0.1', port: 0, backlog: BACKLOG }, resolve),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { server, port: address.port, accepted };
}

/**
 * Opens `count` connections to the port from another process while this one's event loop is
 * blocked (spawnSync), so that all of them wait in the kernel's accept queue when it resumes.
 */
function burst(port: number, count: number): void {
  const script = `
    const net = require('node:net');
    let open = 0;
    for (let i = 0; i < ${count}; i++) {
      const s = net.connect(${port}, '127.0.0.1', () => { if (++open === ${count}) process.exit(0); });
      s.on('error', (e) => { console.error(e.message); process.exit(1); });
    }`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`the client process failed: ${run.stderr}`);
}

/** Accepted connections after each of `turns` turns of the event loop. */
async function acceptedPerTurn(accepted: Socket[], turns: number): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < turns; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    counts.push(accepted.length);
  }
  return counts;
}

describe('extra descriptors of the listening socket', () => {
  it('take a burst of connections count + 1 per turn of the event loop, where one descriptor takes one', async () => {
    const plain = await listening();
    burst(plain.port, 120);
    const one = await acceptedPerTurn(plain.accepted, 5);

    const copied = await listening();
    const acceptors = await addAcceptors(copied.server, { count: 7, backlog: BACKLOG });
    expect(acceptors.count).toBe(7);
    burst(copied.port, 120);
    const eight = await acceptedPerTurn(copied.accepted, 5);
    await acceptors.close();

    // libuv takes one connection per descriptor per turn: 1, 2, 3… against 8, 16, 24…
    expect(one.at(-1)).toBeLessThanOrEqual(6);
    expect(eight.at(-1)).toBeGreaterThanOrEqual(4 * 8);
    expect(eight.at(-1)).toBeGreaterThan(5 * one.at(-1)!);
  });

  it("hand over connections made as the listener makes them (its socket options, not a plain server's)", async () => {
    const { server, port, accepted } = await listening({ allowHalfOpen: true });
    const acceptors = await addAcceptors(server, { count: 7, backlog: BACKLOG });
    burst(port, 40);
    while (accepted.length < 40) await new Promise((resolve) => setImmediate(resolve));
    await acceptors.close();
    // 35 of the 40 came through the copies (5 per turn each, against the listener's 5).
    expect(accepted.map((s) => s.allowHalfOpen)).toEqual(accepted.map(() => true));
  });

  it('leave the listen queue at the length it was given (taking a copy into use resets it to 511)', async (ctx) => {
    const probe = spawnSync('ss', ['-V']);
    if (probe.error) ctx.skip(); // iproute2's `ss` shows the queue length; without it there is nothing to read.
    const { server, port } = await listening();
    const acceptors = await addAcceptors(server, { count: 3, backlog: BACKLOG });
    const shown = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim();
    // State, Recv-Q (connections waiting), Send-Q (the queue's length), local, peer.
    expect(shown.split(/\s+/)[2]).toBe(String(BACKLOG));
    await acceptors.close();
  });

  it('once closed with their listener, free the port: no descriptor of it is left behind', async () => {
    const { server, port } = await listening();
    const acceptors = await addAcceptors(server, { count: 4, backlog: BACKLOG });
    await acceptors.close();
    await new Promise((resolve) => server.close(resolve));
    servers.splice(servers.indexOf(server), 1);
    // Another listener on the same port would fail with EADDRINUSE while any copy were open.
    const again = createServer();
    servers.push(again);
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen({ host: '127.0.0.1', port }, resolve);
    });
  });

  it('make nothing when none are asked for', async () => {
    const { server } = await listening();
    const acceptors = await addAcceptors(server, { count: 0, backlog: BACKLOG });
    expect(acceptors.count).toBe(0);
    await acceptors.close();
  });
});
