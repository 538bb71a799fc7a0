import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Subscription } from 'rxjs';
import { compilePolicy } from '../../policy/compile-policy.js';
import type { CompiledProvider } from '../../policy/compiled-policy.js';
import { fixturePolicy } from '../../testing/policy.fixture.js';
import type { TransportEvent } from './transport.interface.js';
import { isTimerListKept } from '../../shared/timer-lists.js';
import { UndiciTransport } from './undici.transport.js';

// A full collection on demand, to read what is still held (the flag, then a fresh context's gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A server that reads each request whole, answers its head and one event, and holds the stream open. */
let server: Server;
let provider: CompiledProvider;
const open: ServerResponse[] = [];
const received: number[] = [];

before(async () => {
  server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      received.push(bytes);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {}\n\n');
      open.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = fixturePolicy();
  const policy = compilePolicy({ ...base, providers: { ...base.providers, oa: { kind: 'openai', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` } } });
  provider = policy.providers.get('oa')!;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** `server` listening on a free loopback port, and the fixture policy's provider `oa` compiled to call it. */
async function providerOn(server: Server, settings: { maxSockets?: number } = {}): Promise<CompiledProvider> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = fixturePolicy();
  const oa = { kind: 'openai' as const, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, ...settings };
  return compilePolicy({ ...base, providers: { ...base.providers, oa } }).providers.get('oa')!;
}

/** A server that reads each request whole, then gives its response to `answer`. */
const answering = (answer: (res: ServerResponse) => void): Server =>
  createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });

/** A call of `oa` with an empty body: a stream unless said otherwise. */
const callOf = (oa: CompiledProvider, firstByteTimeoutMs = 10_000, stream = true) => ({ provider: oa, request: { path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: '{}' }, firstByteTimeoutMs, stream });

/** Closes the transport, then the server and its connections. */
function closeBoth(transport: UndiciTransport, server: Server): void {
  transport.close();
  server.closeAllConnections();
  server.close();
}

function arrayBuffersMB(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers / 1e6;
}

it("the first-byte timer's duration keeps its timer list: a call at a time does not make and drop one each", async () => {
  // Its own server (answering nothing): the shared one counts the requests it receives.
  const silent = answering(() => undefined);
  const oa = await providerOn(silent);
  const transport = new UndiciTransport();
  try {
    // A duration nothing else in this process uses.
    assert.equal(isTimerListKept(13_000), false);
    const call = transport.send(callOf(oa, 13_000)).subscribe({ error: () => undefined });
    assert.equal(isTimerListKept(13_000), true);
    call.unsubscribe();
  } finally {
    closeBoth(transport, silent);
  }
});

it('an open stream does not hold its request body', async () => {
  const transport = new UndiciTransport();
  const before = arrayBuffersMB();
  const calls: Subscription[] = [];
  let heads = 0;
  const streams = 8;
  for (let i = 0; i < streams; i++) {
    // About 1 MB each, a prompt built per call (as the gateway builds each body).
    const body = JSON.stringify({ model: 'premium-a', stream: true, messages: [{ role: 'user', content: `${i} ${'y'.repeat(1_000_000)}` }] });
    const call = transport.send({ provider, request: { path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body }, firstByteTimeoutMs: 10_000, stream: true });
    calls.push(call.subscribe({ next: (e: TransportEvent) => void (e.type === 'head' && heads++) }));
  }
  while (heads < streams) await new Promise((resolve) => setTimeout(resolve, 10));
  const held = arrayBuffersMB() - before;
  for (const c of calls) c.unsubscribe();
  transport.close();
  // Every body arrived whole (its content-length is the body's own).
  assert.equal(received.length, streams);
  for (const bytes of received) assert.ok(bytes > 1_000_000 && bytes < 1_000_100, `${bytes} bytes received`);
  assert.ok(held < 2, `${held.toFixed(1)} MB of buffers held by ${streams} open streams of 1 MB prompts`);
});

it("an open stream does not hold its response head's bytes", async () => {
  // Its own server: a head of ~14 kB (under undici's 16 kB limit), one event, then the stream held open.
  const responses: ServerResponse[] = [];
  const big = answering((res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-pad': 'p'.repeat(14_000) });
    res.write('data: {}\n\n');
    responses.push(res);
  });
  const oa = await providerOn(big, { maxSockets: 64 });
  const transport = new UndiciTransport();
  const calls: Subscription[] = [];
  try {
    const before = arrayBuffersMB();
    let data = 0;
    const failures: unknown[] = [];
    const streams = 32;
    for (let i = 0; i < streams; i++) {
      calls.push(transport.send(callOf(oa)).subscribe({ next: (e: TransportEvent) => void (e.type === 'data' && data++), error: (err: unknown) => void failures.push(err) }));
    }
    const giveUpAt = Date.now() + 10_000;
    while (data < streams && failures.length === 0 && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(failures, []);
    assert.equal(data, streams, 'every stream had its first event');
    const held = arrayBuffersMB() - before;
    // Held, the heads' reads would be ~0.45 MB.
    assert.ok(held < 0.15, `${held.toFixed(2)} MB of buffers held by ${streams} open streams with 14 kB heads`);
  } finally {
    for (const c of calls) c.unsubscribe();
    closeBoth(transport, big);
  }
});

it('a character whose bytes come in two reads reaches the caller whole', async () => {
  const bytes = Buffer.from('data: {"content":"a€b"}\n\n');
  const cut = bytes.indexOf(0xe2) + 1;
  // Each part is written once the caller has read the one before (not on timers, which a loaded machine may run in one pass).
  const parts = [bytes.subarray(0, cut), bytes.subarray(cut)];
  let response: ServerResponse | undefined;
  const split = answering((res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"content":"x"}\n\n');
    response = res;
  });
  const oa = await providerOn(split);
  const transport = new UndiciTransport();
  try {
    const texts = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const next = (e: TransportEvent) => {
        if (e.type !== 'data') return;
        seen.push(e.text);
        const part = parts.shift();
        if (part !== undefined) response![parts.length === 0 ? 'end' : 'write'](part);
      };
      transport.send(callOf(oa)).subscribe({ next, error: reject, complete: () => resolve(seen) });
    });
    // Three reads: the first whole, the second cut inside the euro sign.
    assert.ok(texts.length >= 3, `${texts.length} reads`);
    assert.equal(texts.join(''), 'data: {"content":"x"}\n\ndata: {"content":"a€b"}\n\n');
  } finally {
    closeBoth(transport, split);
  }
});

it('a head that came in time but was not read yet when the first-byte timer fired (a late event loop) is not a timeout', async () => {
  // Its own server: the head is written at once, then the event loop is held past the timer's due time, so the
  // timer is due before the head is read (timers run before reads). Held until then, not for a fixed time: on a
  // loaded machine the request may reach the server late.
  const firstByteTimeoutMs = 300;
  let timerDueAt = 0;
  const late = answering((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    while (Date.now() < timerDueAt + 100);
    res.end('{}');
  });
  const oa = await providerOn(late);
  const transport = new UndiciTransport();
  try {
    const events = await new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      timerDueAt = Date.now() + firstByteTimeoutMs;
      transport
        .send(callOf(oa, firstByteTimeoutMs, false))
        .subscribe({ next: (e) => seen.push(e.type === 'head' ? `head ${e.status}` : e.type), error: (err: Error) => resolve([...seen, `error ${err.message}`]), complete: () => resolve([...seen, 'complete']) });
    });
    assert.deepEqual(events.filter((e) => e !== 'data'), ['head 200', 'complete']);
  } finally {
    closeBoth(transport, late);
  }
});

it("a long stream body goes with its own length, in place of a provider header's content-length in another case", async () => {
  const transport = new UndiciTransport();
  received.length = 0;
  const body = JSON.stringify({ model: 'premium-a', stream: true, messages: [{ role: 'user', content: 'z'.repeat(10_000) }] });
  const events = await new Promise<string[]>((resolve) => {
    const seen: string[] = [];
    const sub = transport
      .send({ provider, request: { path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'Content-Length': '7' }, body }, firstByteTimeoutMs: 10_000, stream: true })
      .subscribe({
        next: (e: TransportEvent) => {
          seen.push(e.type === 'head' ? `head ${e.status}` : e.type);
          if (e.type === 'head') setImmediate(() => (sub.unsubscribe(), resolve(seen)));
        },
        error: (err: Error) => resolve([...seen, `error ${err.message}`]),
      });
  });
  transport.close();
  assert.deepEqual(events.slice(0, 1), ['head 200']);
  assert.deepEqual(received, [Buffer.byteLength(body)]);
});

it('a provider given another baseUrl by a policy reload is called there, while one that kept its settings keeps its connections', async () => {
  const seen: string[] = [];
  const servers = ['old', 'new'].map((name) =>
    createServer((req, res) => {
      seen.push(`${name} ${req.socket.remotePort}`);
      req.resume();
      req.on('end', () => res.end('{}'));
    }),
  );
  for (const s of servers) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const compiled = (s: Server) => {
    const base = fixturePolicy();
    return compilePolicy({ ...base, providers: { ...base.providers, oa: { kind: 'openai', baseUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1` } } }).providers.get('oa')!;
  };
  const transport = new UndiciTransport();
  const send = (p: CompiledProvider) =>
    new Promise<void>((resolve, reject) =>
      transport.send({ provider: p, request: { path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: '{}' }, firstByteTimeoutMs: 5_000 }).subscribe({ error: reject, complete: resolve }),
    );
  try {
    await send(compiled(servers[0]!));
    // A connection is idle once undici says it drained (a microtask after its answer ended).
    await new Promise((resolve) => setImmediate(resolve));
    // The same settings compiled again (a reload that left this provider alone): the same connection.
    await send(compiled(servers[0]!));
    await send(compiled(servers[1]!));
    assert.deepEqual(seen.map((s) => s.split(' ')[0]), ['old', 'old', 'new']);
    assert.equal(seen[0], seen[1]);
  } finally {
    transport.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  }
});
