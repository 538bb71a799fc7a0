/**
 * The connections the kernel holds until the process accepts them (the listen
 * backlog): the gateway's own process takes LLM_LISTEN_BACKLOG (default 4096,
 * not Node's 511), the simulator 4096. With 511, 5,000 streams opened at 1,000
 * a second overflowed it and the kernel reset connections (bench/, the open-
 * stream run). Read with `ss` (Linux: a listening socket's Send-Q is its
 * backlog); skipped where there is no `ss`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { freePort } from '../bench/src/processes.js';
import { startSim, tempDir, testPolicy, until } from './gateway-support/harness.js';

const MAIN = new URL('../apps/gateway/src/main.js', import.meta.url).pathname;
const HAS_SS = spawnSync('ss', ['-V']).status === 0;
// Skipped only outside CI: under CI=true it runs, and fails without `ss` (.ci/run installs iproute2 where it is missing).
const SKIP = !HAS_SS && process.env.CI !== 'true' && 'no ss on this machine';

/** The backlog of the socket listening on 127.0.0.1:`port`, as the kernel holds it. */
function listenBacklog(port: number): number {
  const ss = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  assert.equal(ss.status, 0, `ss: ${ss.error?.message ?? ss.stderr}`);
  const out = ss.stdout.trim();
  const [, , sendQ] = out.split(/\s+/);
  return Number(sendQ);
}

/** What Linux grants a listen() asking for `asked`: at most net.core.somaxconn. */
const granted = (asked: number) => Math.min(asked, Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));

/** main.js on a free port with `env`: its port once it listens; stopped by `stop`. */
async function startMain(env: Record<string, string>): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = tempDir();
  const sim = await startSim();
  const policy = join(dir.path, 'policy.yaml');
  writeFileSync(policy, stringify(testPolicy(sim.url)));
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LLM_POLICY_FILE: policy, LLM_SQLITE_PATH: join(dir.path, 'g.sqlite'), LLM_REQUEST_LOG: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The directory goes only once the gateway has exited: it writes its SQLite files until then (CI saw ENOTEMPTY).
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
    await sim.close();
    dir.remove();
  };
  try {
    await until(() => /gateway on http/.test(output) || child.exitCode !== null, 'the gateway to listen', 30_000);
    assert.match(output, /gateway on http/, output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}

test('the gateway listens with a backlog of 4096 by default, LLM_LISTEN_BACKLOG when set', { skip: SKIP }, async () => {
  const byDefault = await startMain({});
  try {
    assert.equal(listenBacklog(byDefault.port), granted(4096));
  } finally {
    await byDefault.stop();
  }
  const set = await startMain({ LLM_LISTEN_BACKLOG: '1000' });
  try {
    assert.equal(listenBacklog(set.port), granted(1000));
  } finally {
    await set.stop();
  }
});

test('the simulator listens with a backlog of 4096', { skip: SKIP }, async () => {
  const sim = await startSim();
  try {
    assert.equal(listenBacklog(Number(new URL(sim.url).port)), granted(4096));
  } finally {
    await sim.close();
  }
});
