import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ClientGoneError, readJsonBody } from './read-json-body.js';

const bounds = { maxDepth: 64, maxValues: 20_000 };

interface Outcome {
  bodies: unknown[];
  errors: unknown[];
}

/** A server whose every request is read by readJsonBody; `then` runs once its body is in (or its error came). */
async function serve(then: (req: IncomingMessage) => void): Promise<{ server: Server; port: number; outcome: Outcome; arrived: Promise<void>; settled: Promise<void> }> {
  const outcome: Outcome = { bodies: [], errors: [] };
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const server = createServer((req, res) => {
    arrive();
    readJsonBody(
      req,
      1_000_000,
      bounds,
      (body) => {
        outcome.bodies.push(body);
        then(req);
        res.end('ok');
        settle();
      },
      (err) => {
        outcome.errors.push(err);
        settle();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, outcome, arrived, settled };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('a body read: onBody once, and an error on the request afterwards calls nothing more', async () => {
  let lateError: Promise<void> | undefined;
  const { server, port, outcome, settled } = await serve((req) => {
    // After its end the request keeps the reader's listeners: a late error must not reach onError.
    lateError = new Promise((resolve) => req.once('error', () => resolve()));
    req.destroy(new Error('late'));
  });
  try {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const sent = request({ port, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    sent.on('error', () => {}); // the server destroyed the request: the client may see its socket go
    sent.end(body);
    await settled;
    await lateError;
    await tick();
    assert.deepEqual(outcome.bodies, [{ model: 'm', messages: [{ role: 'user', content: 'hi' }] }]);
    assert.deepEqual(outcome.errors, []);
  } finally {
    server.close();
  }
});

test('the client gone before the body ends: onError once, with ClientGoneError', async () => {
  const { server, port, outcome, arrived, settled } = await serve(() => {});
  try {
    const sent = request({ port, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } });
    sent.on('error', () => {});
    sent.write('{"model":');
    await arrived;
    sent.destroy();
    await settled;
    // Both 'aborted' and 'error' come: the first takes the other's listener off.
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(outcome.bodies.length, 0);
    assert.equal(outcome.errors.length, 1);
    assert.ok(outcome.errors[0] instanceof ClientGoneError);
  } finally {
    server.close();
  }
});

test('once the body is read, the request (which keeps the listeners) no longer holds its bytes', async () => {
  let chunk: WeakRef<Buffer> | undefined;
  let held: IncomingMessage | undefined;
  const { server, port, outcome, settled } = await serve((req) => {
    held = req;
  });
  server.prependListener('request', (req: IncomingMessage) => req.on('data', (c: Buffer) => (chunk = new WeakRef(c))));
  try {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] });
    const sent = request({ port, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    sent.end(body);
    await settled;
    assert.equal(outcome.bodies.length, 1);
    assert.ok(held !== undefined && chunk !== undefined);
    for (let i = 0; i < 3; i++) {
      await tick();
      gc();
    }
    assert.equal(chunk.deref(), undefined, "the body's last chunk is still reachable while the request lives");
    assert.ok(held.listenerCount('data') > 0);
  } finally {
    server.close();
  }
});
