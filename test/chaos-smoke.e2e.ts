/**
 * The reliability suite (`npm run chaos`, chaos/) stays exercised by the test
 * suite: its fuzz, scaled down to 200 malformed and hostile requests over
 * every endpoint, against the gateway and the simulator as child processes
 * (`node dist/apps/...`, the gateway on SQLite). No 5xx from any of them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stopService, type Service } from '../bench/src/processes.js';
import { ENDPOINTS, runFuzz } from '../chaos/src/fuzz.js';
import { ADMIN_KEY, Gateway, startSimulator } from '../chaos/src/stack.js';

let dir: string;
let sim: Service | undefined;
let gw: Gateway | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chaos-smoke-'));
  sim = await startSimulator(dir);
  // A 2 s header timeout instead of 10 s: the fuzz's empty request line waits for it (and gets its 408).
  gw = await Gateway.start(sim, { name: 'smoke', store: 'sqlite', databaseUrl: '', logDir: dir, env: { LLM_HEADERS_TIMEOUT_MS: '2000' } });
});

after(async () => {
  await gw?.dispose();
  if (sim) await stopService(sim);
  rmSync(dir, { recursive: true, force: true });
});

test('the chaos fuzz, 200 requests over every endpoint: no 5xx', async () => {
  const { key } = await gw!.createKey('fuzz');
  const result = await runFuzz(gw!.port, { user: key, admin: ADMIN_KEY }, { requests: 200, seed: 13, concurrency: 8, timeoutMs: 20_000 });
  assert.equal(result.requests, 200);
  assert.equal(Object.keys(result.byEndpoint).length, ENDPOINTS.length, 'every endpoint was fuzzed');
  assert.deepEqual(result.serverErrors, [], 'no 5xx');
});
