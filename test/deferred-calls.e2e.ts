/**
 * Internal automation deferred to a queue, end to end through the gateway, on
 * each of its queues (the SQL store's and BullMQ on Redis): a class whose
 * route is exhausted by outage answers 202 with the deferred call, which the
 * queue tries again until it is served (GET returns the completion), fails
 * deterministically (a 400: one upstream call, then `failed`), or passes its
 * deadline (`expired`); a callback receiver gets the signed result, again
 * after it answered 500 once.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { PolicyDocument } from '@llm-router/nestjs';
import type { CreateGatewayOptions } from '../apps/gateway/src/index.js';
import { call, chat, createKey, FAST, postgresOrSkip, simReply, startGw, startSim, tempDir, sqliteStore, testPolicy, until, type CreatedKey, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

const DEFER_FAST = { deferBackoff: { baseMs: 100, maxMs: 300, jitter: false }, deferDeadlineMs: 60_000 } as const;

function deferringPolicy(simUrl: string): PolicyDocument {
  const policy = testPolicy(simUrl);
  return {
    ...policy,
    classes: {
      ...policy.classes,
      // internal_automation defers by default: no onExhausted needed.
      automation: { criticality: 'internal_automation', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, ...FAST, ...DEFER_FAST },
      'automation-short': { criticality: 'internal_automation', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, ...FAST, ...DEFER_FAST, deferDeadlineMs: 1_000 },
    },
  };
}

interface QueueSetup {
  readonly name: string;
  /** Gateway options for this queue, or why it is skipped; `cleanup` after the suite. */
  setup(): Promise<{ options: Partial<CreateGatewayOptions>; cleanup(): Promise<void> } | { skip: string }>;
}

const QUEUES: QueueSetup[] = [
  {
    name: 'SQL store queue (SQLite)',
    setup: async () => {
      const dir = tempDir();
      return { options: { store: sqliteStore(dir.path) }, cleanup: async () => dir.remove() };
    },
  },
  {
    name: 'SQL store queue (PostgreSQL)',
    setup: async () => {
      const pgStore = await postgresOrSkip();
      if ('skip' in pgStore) return pgStore;
      return { options: { store: pgStore.store }, cleanup: pgStore.drop };
    },
  },
  {
    name: 'BullMQ on Redis',
    setup: async () => {
      const ok = await redisAvailable();
      if (ok !== true) return { skip: ok };
      const dir = tempDir();
      const prefix = `test-deferred-${process.pid}-${randomBytes(3).toString('hex')}:`;
      return {
        options: { store: sqliteStore(dir.path), redisUrl: REDIS_URL, redisKeyPrefix: prefix },
        cleanup: async () => {
          await deletePrefix(REDIS_URL, prefix);
          dir.remove();
        },
      };
    },
  },
];

const AUTOMATION = { 'x-traffic-class': 'automation' };
const healSim = async (sim: SimulatorHandle) => assert.equal((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status, 200);
/** Requests the simulator received whose body carries `text` (another test's deferred call may still be tried meanwhile). */
async function upstreamCalls(sim: SimulatorHandle, text: string): Promise<number> {
  const { requests } = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as { requests: unknown[] };
  return requests.filter((r) => JSON.stringify(r).includes(text)).length;
}

for (const queue of QUEUES) {
  describe(`deferred internal automation: ${queue.name}`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let key: CreatedKey;
    let skip: string | undefined;
    let cleanup = async () => undefined as void;

    before(async () => {
      const made = await queue.setup();
      if ('skip' in made) {
        skip = made.skip;
        return;
      }
      cleanup = made.cleanup;
      sim = await startSim();
      // The callback receivers listen on loopback: allowed here (LLM_CALLBACK_ALLOW), refused by default.
      gw = await startGw(sim, { ...made.options, callbackAllow: ['127.0.0.1'], router: { policy: deferringPolicy(sim.url) } });
      key = await createKey(gw, { tenant: 'ops', allowedClasses: ['automation', 'automation-short', 'general'] });
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup();
    });
    beforeEach(async () => {
      if (sim) await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    });
    const it = (title: string, body: () => Promise<void>) =>
      test(title, async (t) => {
        if (skip) return t.skip(skip);
        await body();
      });
    const getDeferred = (id: string, as: CreatedKey = key) => call(gw.url, `/v1/deferred/${id}`, { key: as.key });

    it('every target failing gives 202 and an id; once the simulator heals, GET returns the completion as a synchronous call answers it', async () => {
      sim.addFaults({ fault: { error: 'server_error' } });
      const prompt = `deferred ${randomBytes(4).toString('hex')}`;
      const res = await chat(gw, key.key, prompt, {}, AUTOMATION);
      assert.equal(res.status, 202, res.text);
      const id = res.json.id as string;
      assert.match(id, /^dfr_[0-9a-f]{24}$/);
      assert.equal(res.headers.get('location'), `/v1/deferred/${id}`);
      assert.equal(res.json.status, 'pending');
      assert.equal(res.json.reason, 'route_exhausted');
      assert.equal(typeof res.json.next_attempt_at, 'number');
      assert.equal(res.json.response, null);
      assert.equal(res.json.last_error.error.code, 'route_exhausted');

      const pending = await getDeferred(id);
      assert.equal(pending.status, 200, pending.text);
      assert.equal(pending.json.status, 'pending');
      await until(async () => (await getDeferred(id)).json.attempts >= 3, 'the queue trying it again', 10_000);

      await healSim(sim);
      await until(async () => (await getDeferred(id)).json.status === 'completed', 'the deferred call completed', 10_000);
      const done = await getDeferred(id);
      assert.equal(done.json.response.status_code, 200);
      const completion = done.json.response.body;
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.choices[0].message.content, simReply('premium-a', prompt));
      // The same fields, in the same order, as the synchronous answer to the same request.
      const sync = await chat(gw, key.key, prompt, {}, AUTOMATION);
      assert.equal(sync.status, 200);
      assert.deepEqual(Object.keys(completion), Object.keys(sync.json));
      assert.deepEqual(completion.usage, sync.json.usage);

      // Another tenant's key cannot see it: the 404 of an unknown id.
      const stranger = await createKey(gw, { tenant: 'someone-else' });
      const hidden = await getDeferred(id, stranger);
      assert.equal(hidden.status, 404);
      assert.equal(hidden.json.error.code, 'deferred_call_not_found');
      assert.equal((await getDeferred('dfr_000000000000000000000000')).status, 404);
    });

    it('a 400 on a later try ends the call as failed after one upstream call', async () => {
      // The synchronous call's two attempts fail with 500; every request after them gets a 400.
      sim.addFaults([{ times: 2, fault: { error: 'server_error' } }, { fault: { error: 'invalid_request' } }]);
      const prompt = `will be refused ${randomBytes(4).toString('hex')}`;
      const res = await chat(gw, key.key, prompt, {}, AUTOMATION);
      assert.equal(res.status, 202, res.text);
      const id = res.json.id as string;
      await until(async () => (await getDeferred(id)).json.status === 'failed', 'the deferred call failed', 10_000);
      const failed = await getDeferred(id);
      assert.equal(failed.json.last_error.status_code, 400);
      assert.equal(failed.json.last_error.error.category, 'invalid_request');
      assert.equal(failed.json.attempts, 2);
      assert.equal(failed.json.next_attempt_at, null);
      // Two calls for the synchronous try, one for the deferred try, and none after it failed.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(await upstreamCalls(sim, prompt), 3);
    });

    it('a call still failing at its deadline expires with its last failure', async () => {
      sim.addFaults({ fault: { error: 'overloaded' } });
      const res = await chat(gw, key.key, 'never served', {}, { 'x-traffic-class': 'automation-short' });
      assert.equal(res.status, 202, res.text);
      const id = res.json.id as string;
      await until(async () => (await getDeferred(id)).json.status === 'expired', 'the deferred call expired', 10_000);
      const expired = await getDeferred(id);
      assert.equal(expired.json.last_error.error.code, 'route_exhausted');
      assert.ok(expired.json.attempts >= 2, `tried again before expiring (${expired.json.attempts} tries)`);
      assert.ok(expired.json.finished_at >= expired.json.deadline_at, 'expired at its deadline, not before');
      assert.equal(expired.json.response, null);
    });

    it('a callback receiver gets the signed result, and again after it answered 500 once', async () => {
      const deliveries: Array<{ body: string; signature: string | undefined; id: string | undefined }> = [];
      const receiver: Server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          deliveries.push({ body, signature: req.headers['x-llm-router-signature'] as string | undefined, id: req.headers['x-llm-router-deferred-id'] as string | undefined });
          res.writeHead(deliveries.length === 1 ? 500 : 204).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      try {
        const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
        sim.addFaults({ times: 2, fault: { error: 'server_error' } });
        const res = await chat(gw, key.key, 'call me back', {}, { ...AUTOMATION, 'x-llm-callback-url': callbackUrl });
        assert.equal(res.status, 202, res.text);
        const id = res.json.id as string;
        await until(() => deliveries.length >= 2, 'the callback delivered twice', 10_000);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(deliveries.length, 2, 'no delivery after the 2xx');
        // The key's secret: HMAC-SHA256 of "llm-router-callback" under the API key (README, Deferred calls).
        const secret = createHmac('sha256', key.key).update('llm-router-callback').digest('hex');
        for (const d of deliveries) {
          assert.equal(d.id, id);
          assert.equal(d.signature, `sha256=${createHmac('sha256', secret).update(d.body).digest('hex')}`);
          const body = JSON.parse(d.body);
          assert.equal(body.id, id);
          assert.equal(body.status, 'completed');
          assert.equal(body.response.body.choices[0].message.content, simReply('premium-a', 'call me back'));
        }
        assert.equal(deliveries[1]!.body, deliveries[0]!.body);
        assert.equal(deliveries[1]!.body, (await getDeferred(id)).text, 'the callback carries what GET answers');
      } finally {
        await new Promise<void>((r) => receiver.close(() => r()));
      }
    });

    it('a bad callback URL is a 400 before anything is routed; an interactive class still fails at once', async () => {
      const prompt = `bad callback ${randomBytes(4).toString('hex')}`;
      const bad = await chat(gw, key.key, prompt, {}, { ...AUTOMATION, 'x-llm-callback-url': 'ftp://example.com/x' });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, 'invalid_callback_url');
      assert.equal(bad.json.error.param, 'x-llm-callback-url');
      assert.equal(await upstreamCalls(sim, prompt), 0);
      sim.addFaults({ fault: { error: 'server_error' } });
      const interactive = await chat(gw, key.key, 'x', {}, { 'x-traffic-class': 'general' });
      assert.equal(interactive.status, 502);
      assert.equal(interactive.json.error.code, 'route_exhausted');
    });

    it('a callback to another loopback, a private or a metadata address is a 400 naming the header, before anything is routed', async () => {
      const prompt = `internal callback ${randomBytes(4).toString('hex')}`;
      for (const url of ['http://127.0.0.2:9/hook', 'http://10.0.0.5/hook', 'http://192.168.1.1/hook', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/hook', 'http://[fd00::1]/hook']) {
        const bad = await chat(gw, key.key, prompt, {}, { ...AUTOMATION, 'x-llm-callback-url': url });
        assert.equal(bad.status, 400, `${url}: ${bad.text}`);
        assert.equal(bad.json.error.type, 'invalid_request_error');
        assert.equal(bad.json.error.code, 'invalid_callback_url');
        assert.equal(bad.json.error.param, 'x-llm-callback-url');
        assert.match(bad.json.error.message, /loopback|private|link-local/);
      }
      assert.equal(await upstreamCalls(sim, prompt), 0);
    });
  });
}

describe('callback targets by default (no LLM_CALLBACK_ALLOW)', () => {
  let sim: SimulatorHandle;
  let gw: Gw;
  let key: CreatedKey;
  const dir = tempDir();

  before(async () => {
    sim = await startSim();
    gw = await startGw(sim, { store: sqliteStore(dir.path), router: { policy: deferringPolicy(sim.url) } });
    key = await createKey(gw, { tenant: 'ops', allowedClasses: ['automation'] });
  });
  after(async () => {
    await gw?.close();
    await sim?.close();
    dir.remove();
  });

  test('loopback (by address or by a name resolving to it), private, link-local and metadata callback URLs are 400s; nothing is routed', async () => {
    const prompt = `default callback ${randomBytes(4).toString('hex')}`;
    const refused = [
      'http://127.0.0.1:8080/hook',
      'http://localhost:8080/hook',
      'http://2130706433/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://10.1.2.3/hook',
      'http://172.16.0.1/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/hook',
      'http://[fc00::1]/hook',
      'http://0.0.0.0/hook',
      'http://224.0.0.1/hook',
    ];
    for (const url of refused) {
      const bad = await chat(gw, key.key, prompt, {}, { ...AUTOMATION, 'x-llm-callback-url': url });
      assert.equal(bad.status, 400, `${url}: ${bad.text}`);
      assert.equal(bad.json.error.code, 'invalid_callback_url');
      assert.equal(bad.json.error.param, 'x-llm-callback-url');
    }
    assert.match((await chat(gw, key.key, prompt, {}, { ...AUTOMATION, 'x-llm-callback-url': 'http://localhost:8080/hook' })).json.error.message, /localhost resolves to .*loopback/);
    assert.equal(await upstreamCalls(sim, prompt), 0);
  });
});

describe('deferred calls across two gateway instances on one PostgreSQL', () => {
  let sim: SimulatorHandle;
  let a: Gw | undefined;
  let b: Gw | undefined;
  let drop = async () => undefined as void;
  let skip: string | undefined;

  before(async () => {
    const pgStore = await postgresOrSkip();
    if ('skip' in pgStore) {
      skip = pgStore.skip;
      return;
    }
    drop = pgStore.drop;
    sim = await startSim();
    const options = { store: pgStore.store, keysRefreshMs: 50, router: { policy: deferringPolicy(sim.url) } };
    a = await startGw(sim, options);
    b = await startGw(sim, options);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    await drop();
  });

  test('a call deferred on one instance is read on the other, and completed there once the first has shut down', async (t) => {
    if (skip) return t.skip(skip);
    const key = await createKey(a!, { tenant: 'ops', allowedClasses: ['automation'] });
    sim.addFaults({ fault: { error: 'server_error' } });
    const res = await chat(a!, key.key, 'deferred on a', {}, AUTOMATION);
    assert.equal(res.status, 202, res.text);
    const id = res.json.id as string;
    // b knows the key once it re-reads the keys, and reads the call from the shared store.
    await until(async () => (await call(b!.url, `/v1/deferred/${id}`, { key: key.key })).status === 200, 'the call read on b', 5_000);
    await a!.close();
    await healSim(sim);
    await until(async () => (await call(b!.url, `/v1/deferred/${id}`, { key: key.key })).json?.status === 'completed', 'the call completed by b', 10_000);
    const done = await call(b!.url, `/v1/deferred/${id}`, { key: key.key });
    assert.equal(done.json.response.body.choices[0].message.content, simReply('premium-a', 'deferred on a'));
  });
});
