/**
 * The feature-cost table's arithmetic (bench/src/feature-costs.ts: pairs of
 * fresh processes, the cost with its range, the verdict against the control)
 * and its Redis command count (bench/src/redis-commands.ts) on the real Redis:
 * a child process's commands are counted, this process's and a script's inner
 * ones are not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { featureVerdict, noiseOf, summarizeFeature, type PairLoads, type ProcessLoad } from '../bench/src/feature-costs.js';
import { countRedisCommands } from '../bench/src/redis-commands.js';
import { ioCalls } from '../bench/src/processes.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

const at = (cpuUs: number, ioCalls = 5): ProcessLoad => ({ cpuUs, rps: 1000, ioCalls, errors: 0 });
const pair = (full: number[], off: number[]): PairLoads => ({ full: full.map((c) => at(c)), off: off.map((c) => at(c, 4)) });
const variant = { id: 'records', label: 'routing records', how: 'LLM_RECORDS=false' };

test("a feature's cost: the median of its pairs' costs (each the median of its rounds' differences), their range, medians of every round", () => {
  const s = summarizeFeature(variant, [pair([300, 320], [250, 260]), pair([280, 300], [270, 290]), pair([310, 330], [240, 250])]);
  assert.deepEqual(s.pairCostsUs, [55, 10, 75]);
  assert.equal(s.costUs, 55);
  assert.equal(s.costMinUs, 10);
  assert.equal(s.costMaxUs, 75);
  assert.equal(s.fullCpuUs, 305);
  assert.equal(s.offCpuUs, 255);
  assert.equal(s.fullIoCalls, 5);
  assert.equal(s.offIoCalls, 4);
  assert.equal(s.pairs, 3);
  assert.equal(s.rounds, 2);
});

test('one round a young process spent compiling does not decide its pair', () => {
  const s = summarizeFeature(variant, [pair([7900, 300, 310], [320, 250, 270])]);
  assert.deepEqual(s.pairCostsUs, [50]);
  assert.equal(s.costUs, 50);
});

test('a pair with fewer loads of one side than of the other is refused, not summarized', () => {
  assert.throws(() => summarizeFeature(variant, [{ full: [at(300)], off: [] }]), /as many loads/);
  assert.throws(() => summarizeFeature(variant, []), /at least one/);
});

test('the verdict: within noise when the pairs straddle 0 or the cost is no larger than two identical processes differed', () => {
  const noise = noiseOf([{ id: 'none', pairCostsUs: [12, -30, 5] }]);
  assert.equal(noise, 30);
  const judge = (costUs: number, costMinUs: number, costMaxUs: number, n = noise) => featureVerdict({ id: 'keys', costUs, costMinUs, costMaxUs }, n);
  assert.equal(judge(40, -5, 90), 'within noise');
  assert.equal(judge(25, 10, 40), 'within noise');
  assert.equal(judge(55, 10, 75), 'costs');
  assert.equal(judge(-45, -60, -35), 'cheaper with it on');
  // Without the control only the range decides.
  assert.equal(judge(25, 10, 40, noiseOf([])), 'costs');
  assert.equal(featureVerdict({ id: 'none', costUs: 12, costMinUs: -30, costMaxUs: 12 }, noise), 'the yardstick');
});

test('read and write calls of a process: a count that grows with each read', async () => {
  const before = ioCalls(process.pid);
  const { readFileSync } = await import('node:fs');
  for (let i = 0; i < 5; i++) readFileSync('/proc/self/stat');
  assert.ok(ioCalls(process.pid) - before >= 5);
});

/** A child holding one Redis connection; on "go" it sends SET, an EVAL whose script calls GET, and DEL, then says "done". */
const CHILD = `
const net = require('node:net');
const [host, port, key] = process.argv.slice(1);
const s = net.connect(Number(port), host, () => process.stdout.write('ready\\n'));
const cmd = (...a) => '*' + a.length + '\\r\\n' + a.map((x) => '$' + Buffer.byteLength(x) + '\\r\\n' + x + '\\r\\n').join('');
let replies = 0;
s.on('data', (b) => { replies += (b.toString().match(/\\r\\n/g) || []).length; if (replies >= 3) { replies = -1e9; process.stdout.write('done\\n'); } });
process.stdin.on('data', () => s.write(cmd('SET', key, 'v') + cmd('EVAL', "redis.call('GET', KEYS[1]) return 1", '1', key) + cmd('DEL', key)));
`;

test("Redis commands of one process: its own three counted, a script's inner GET and another client's commands not", async (t) => {
  const available = await redisAvailable();
  if (available !== true) return t.skip(available);
  const prefix = `feature-costs-${randomUUID().slice(0, 8)}:`;
  const url = new URL(REDIS_URL);
  const child = spawn(process.execPath, ['-e', CHILD, url.hostname, url.port || '6379', `${prefix}k`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const other = new Redis(REDIS_URL);
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    assert.equal((await lines.next()).value, 'ready');
    const { commands, result } = await countRedisCommands(REDIS_URL, child.pid!, async () => {
      child.stdin!.write('go\n');
      await Promise.all([other.set(`${prefix}other`, '1'), other.del(`${prefix}other`)]);
      return (await lines.next()).value as string;
    });
    assert.equal(result, 'done');
    assert.equal(commands, 3);
  } finally {
    other.disconnect();
    child.kill();
    await once(child, 'exit');
    await deletePrefix(REDIS_URL, prefix);
  }
});
