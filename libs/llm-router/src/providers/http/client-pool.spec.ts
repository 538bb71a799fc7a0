import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Client, Dispatcher } from 'undici';
import { ClientPool, type WaitingCall } from './client-pool.js';

/** A server that holds each answer until told (or, with `answerAtOnce`, answers each at once), and counts the connections it was opened. */
let server: Server;
let origin: string;
let connections = 0;
/** The server's side of each connection, in order. */
const serverSockets: Socket[] = [];
const held: ServerResponse[] = [];
let answerAtOnce = false;
/** The `x-call` header of each request the server received, in order. */
const received: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    received.push(String(req.headers['x-call']));
    req.resume();
    req.on('end', () => (answerAtOnce ? res.end('ok') : held.push(res)));
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    serverSockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** One call through the pool: settles with its status (or error) once its answer has ended. */
function call(pool: ClientPool, headers: Record<string, string> = { 'content-type': 'application/json' }): { started: () => boolean; done: Promise<number | Error>; waiting: WaitingCall | undefined } {
  let started = false;
  let waiting: WaitingCall | undefined;
  const done = new Promise<number | Error>((resolve) => {
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => undefined,
      onResponseStart: (_c, s) => {
        started = true;
        status = s;
      },
      onResponseData: () => undefined,
      onResponseEnd: () => resolve(status),
      onResponseError: (_c, err) => resolve(err),
    };
    waiting = pool.dispatch({ path: '/', method: 'POST', body: '{}', headers }, handler);
  });
  return { started: () => started, done, waiting };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'timed out waiting');
}

function answerAll(): void {
  for (const res of held.splice(0)) res.end('ok');
}

/** Waits until the server holds `c`'s request alone, answers it, and gives how `c` ended. */
async function servedAlone(c: { done: Promise<number | Error> }): Promise<number | Error> {
  await until(() => held.length === 1);
  answerAll();
  return c.done;
}

/** A pool of `maxConnections` on a server that answers each call at once, destroyed (and the server holding again) after `run`. */
async function withPoolAnsweringAtOnce(maxConnections: number, run: (pool: ClientPool) => Promise<void>): Promise<void> {
  answerAtOnce = true;
  const pool = new ClientPool(origin, maxConnections, 1000);
  try {
    await run(pool);
  } finally {
    answerAtOnce = false;
    await pool.destroy();
  }
}

describe('ClientPool', () => {
  it('opens a connection per call in flight up to the limit; past it, calls wait in order for one to free', async () => {
    connections = 0;
    const pool = new ClientPool(origin, 2, 1000);
    const calls = [call(pool), call(pool), call(pool)];
    await until(() => held.length === 2);
    assert.equal(connections, 2);
    assert.equal(calls[2]!.started(), false);
    held.shift()!.end('ok');
    assert.equal(await calls[0]!.done, 200);
    // The freed connection carries the waiting call: no third connection.
    await until(() => held.length === 2);
    assert.equal(connections, 2);
    answerAll();
    assert.deepEqual(await Promise.all([calls[1]!.done, calls[2]!.done]), [200, 200]);
    await pool.destroy();
  });

  it('gives its connections one parsed origin and one pair of listeners (an open stream holds its connection for its life)', async () => {
    const pool = new ClientPool(origin, 2, 1000);
    const calls = [call(pool), call(pool)];
    await until(() => held.length === 2);
    try {
      const clients = [...(pool as unknown as { clients: Set<Client> }).clients];
      assert.equal(clients.length, 2);
      const [a, b] = clients as [Client, Client];
      // undici keeps the origin under a symbol of its own (kUrl): given a string, each Client parsed a URL of its own.
      const url = (c: Client) => (c as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(c).find((s) => s.description === 'url')!];
      assert.ok(url(a) instanceof URL);
      assert.equal(url(a), url(b));
      assert.equal(a.listenerCount('drain'), 1);
      assert.equal(a.listeners('drain')[0], b.listeners('drain')[0]);
      assert.equal(a.listeners('disconnect')[0], b.listeners('disconnect')[0]);
    } finally {
      answerAll();
    }
    assert.deepEqual(await Promise.all(calls.map((c) => c.done)), [200, 200]);
    await pool.destroy();
  });

  it('reuses an idle connection', async () => {
    connections = 0;
    const pool = new ClientPool(origin, 8, 1000);
    const first = [call(pool), call(pool)];
    await until(() => held.length === 2);
    answerAll();
    await Promise.all(first.map((c) => c.done));
    // A connection is idle once undici says it drained (a microtask after its answer ended).
    await new Promise((resolve) => setImmediate(resolve));
    const again = call(pool);
    assert.equal(await servedAlone(again), 200);
    assert.equal(connections, 2);
    await pool.destroy();
  });

  it("sets a new connection's TCP_NODELAY and keep-alive (60 s) once each, at its connect", async () => {
    // What reaches the socket's handle (each call a setsockopt, keep-alive four): undici's connector calls net.connect.
    const calls: string[] = [];
    const connect = net.connect;
    (net as { connect: unknown }).connect = (...args: Parameters<typeof net.connect>) => {
      const socket = connect(...args);
      const handle = (socket as unknown as { _handle: { setNoDelay(on: boolean): number; setKeepAlive(on: boolean, delayS: number): number } })._handle;
      const { setNoDelay, setKeepAlive } = handle;
      handle.setNoDelay = (on) => (calls.push(`noDelay ${on}`), setNoDelay.call(handle, on));
      handle.setKeepAlive = (on, delayS) => (calls.push(`keepAlive ${on} ${delayS}`), setKeepAlive.call(handle, on, delayS));
      return socket;
    };
    try {
      await withPoolAnsweringAtOnce(8, async (pool) => assert.equal(await call(pool).done, 200));
    } finally {
      (net as { connect: unknown }).connect = connect;
    }
    assert.deepEqual(calls, ['noDelay true', 'keepAlive true 60']);
  });

  it('a connection the server closes while idle is dropped, and the next call opens another', async () => {
    connections = 0;
    await withPoolAnsweringAtOnce(8, async (pool) => {
      assert.deepEqual(await Promise.all([call(pool).done, call(pool).done]), [200, 200]);
      assert.equal(pool.size, 2);
      // As a keep-alive timeout would: both sockets closed by the server while idle.
      server.closeIdleConnections();
      await until(() => pool.size === 0);
      assert.equal(await call(pool).done, 200);
      assert.equal(pool.size, 1);
      assert.equal(connections, 3);
    });
  });

  it('a call handed to a kept-alive connection closing in the same pass is sent on a new one, not failed', async () => {
    connections = 0;
    await withPoolAnsweringAtOnce(8, async (pool) => {
      assert.equal(await call(pool).done, 200);
      await new Promise((resolve) => setImmediate(resolve));
      // In the check phase: undici writes on a reused socket a pass later; the close (the next poll) comes first.
      const status = await new Promise<number | Error>((resolve) =>
        setImmediate(() => {
          serverSockets.at(-1)!.destroy();
          void call(pool).done.then(resolve);
        }),
      );
      assert.equal(status, 200);
      assert.equal(connections, 2);
    });
  });

  it('a connection lost under a call fails that call, and a call waiting for a place gets a new connection', async () => {
    connections = 0;
    const pool = new ClientPool(origin, 1, 1000);
    const first = call(pool);
    const waiting = call(pool);
    await until(() => held.length === 1);
    assert.equal(waiting.started(), false);
    held.shift()!.socket!.destroy();
    assert.ok((await first.done) instanceof Error);
    assert.equal(await servedAlone(waiting), 200);
    assert.equal(connections, 2);
    assert.equal(pool.size, 1);
    await pool.destroy();
  });

  it('a call undici refuses before sending (a header value with a line break) fails, and its connection serves the next', async () => {
    connections = 0;
    const pool = new ClientPool(origin, 1, 1000);
    for (let i = 0; i < 3; i++) assert.ok((await call(pool, { authorization: 'Bearer key\n' }).done) instanceof Error);
    // With one connection allowed, a lost one would leave this call waiting for ever.
    const fine = call(pool);
    assert.equal(await servedAlone(fine), 200);
    assert.equal(connections, 1);
    await pool.destroy();
  });

  it('a waiting call withdrawn never starts, lets go of its request, and the next one takes its turn', async () => {
    connections = 0;
    received.length = 0;
    const pool = new ClientPool(origin, 1, 1000);
    const first = call(pool, { 'x-call': 'first' });
    const given = call(pool, { 'x-call': 'given-up' });
    const next = call(pool, { 'x-call': 'next' });
    assert.equal(first.waiting, undefined);
    assert.ok(given.waiting !== undefined && next.waiting !== undefined);
    pool.withdraw(given.waiting);
    assert.equal(given.waiting.options, undefined);
    assert.equal(await servedAlone(first), 200);
    assert.equal(await servedAlone(next), 200);
    assert.deepEqual(received, ['first', 'next']);
    // Taken off the queue, a call no longer holds its request there either.
    assert.equal(next.waiting.options, undefined);
    assert.equal(given.started(), false);
    assert.equal(connections, 1);
    await pool.destroy();
  });

  it('a long queue is served in order, skipping the calls withdrawn', async () => {
    received.length = 0;
    await withPoolAnsweringAtOnce(1, async (pool) => {
      const calls = Array.from({ length: 2200 }, (_, i) => call(pool, { 'x-call': String(i) }));
      const kept: string[] = [];
      calls.forEach((c, i) => {
        if (i % 7 === 3) pool.withdraw(c.waiting!);
        else kept.push(String(i));
      });
      await Promise.all(calls.filter((_, i) => i % 7 !== 3).map((c) => c.done));
      assert.deepEqual(received, kept);
    });
  });

  it('calls withdrawn while every connection stays busy are dropped from the queue, not kept', async () => {
    received.length = 0;
    const pool = new ClientPool(origin, 1, 1000);
    const busy = call(pool, { 'x-call': 'busy' });
    const queued = Array.from({ length: 3000 }, (_, i) => call(pool, { 'x-call': String(i) }));
    for (const c of queued.slice(0, -1)) pool.withdraw(c.waiting!);
    const slots = (pool as unknown as { waiting: unknown[] }).waiting.length;
    assert.ok(slots < 1500, `${slots} queue slots held for 1 call still waiting`);
    assert.equal(await servedAlone(busy), 200);
    assert.equal(await servedAlone(queued.at(-1)!), 200);
    assert.deepEqual(received, ['busy', '2999']);
    await pool.destroy();
  });

  it('destroy fails the calls in flight and those waiting', async () => {
    const pool = new ClientPool(origin, 1, 1000);
    const calls = [call(pool), call(pool)];
    await until(() => held.length === 1);
    await pool.destroy();
    const ends = await Promise.all(calls.map((c) => c.done));
    assert.ok(ends.every((e) => e instanceof Error));
    held.length = 0;
  });
});
