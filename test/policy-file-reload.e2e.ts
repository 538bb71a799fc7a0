/**
 * The gateway's own process (dist/apps/gateway/src/main.js) reloading its
 * policy file: on a change seen by the file watch, and on SIGHUP. A file
 * that fails validation is logged with every error and changes nothing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { freePort } from '../bench/src/processes.js';
import { ADMIN_KEY, call, startSim, tempDir, testPolicy, until, type SimulatorHandle } from './gateway-support/harness.js';

const MAIN = new URL('../apps/gateway/src/main.js', import.meta.url).pathname;
// dist/test/ -> the repository root.
const REPO_ROOT = new URL('../../', import.meta.url).pathname;

interface Child {
  readonly url: string;
  readonly process: ChildProcess;
  output: string;
}

/** main.js on a free port, from the repository root (where the quick start runs it). */
async function startMain(sqlitePath: string, env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LLM_SQLITE_PATH: sqlitePath,
      LLM_ADMIN_KEY: ADMIN_KEY,
      LLM_REQUEST_LOG: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started: Child = { url: `http://127.0.0.1:${port}`, process: child, output: '' };
  child.stdout!.on('data', (d: Buffer) => (started.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (started.output += d.toString()));
  await until(async () => (await fetch(`${started.url}/health/live`).catch(() => undefined))?.status === 200, `the gateway on ${port}: ${started.output}`, 30_000);
  return started;
}

async function versionOf(child: Child): Promise<string> {
  return (await call(child.url, '/admin/policy', { key: ADMIN_KEY })).json.version as string;
}

describe('the policy file reloaded by the gateway process', () => {
  let sim: SimulatorHandle;
  const dir = tempDir();
  const children: Child[] = [];

  before(async () => {
    sim = await startSim();
  });
  after(async () => {
    for (const c of children) {
      c.process.kill('SIGTERM');
      await new Promise((r) => (c.process.exitCode !== null ? r(undefined) : c.process.once('exit', r)));
    }
    await sim.close();
    dir.remove();
  });

  test('the file watch: a change is applied, an invalid file is logged and changes nothing', async () => {
    const file = join(dir.path, 'watched.yaml');
    const policy = testPolicy(sim.url);
    writeFileSync(file, stringify(policy));
    const child = await startMain(join(dir.path, 'w.sqlite'), { LLM_POLICY_FILE: file, LLM_POLICY_WATCH: 'true' });
    children.push(child);
    const first = await versionOf(child);
    assert.match(first, /^1-/);

    policy.classes['from-the-file'] = { criticality: 'batch', route: ['economy-1'] };
    writeFileSync(file, stringify(policy));
    await until(async () => (await versionOf(child)).startsWith('2-'), 'version 2 from the file', 10_000);
    const history = (await call(child.url, '/admin/policy/history', { key: ADMIN_KEY })).json;
    assert.deepEqual([history.data[0].source, history.data[0].actor], ['file', file]);
    assert.deepEqual(history.data[0].changes.classes.added, ['from-the-file']);

    writeFileSync(file, 'classes:\n  broken: { criticality: vital, route: [nowhere] }\n');
    await until(() => /was not applied/.test(child.output), 'the refusal in the log', 10_000);
    // The log is JSON lines: the refusal is one line whose message lists every error.
    const refusal = child.output
      .split('\n')
      .filter((line) => line.includes('was not applied'))
      .map((line) => JSON.parse(line) as { level: string; msg: string })[0]!;
    assert.equal(refusal.level, 'error');
    assert.match(refusal.msg, /classes\.broken\.criticality/);
    assert.match(refusal.msg, /classes\.broken\.route\[0\]: unknown model "nowhere"/);
    assert.ok((await versionOf(child)).startsWith('2-'), 'the running policy is kept');
  });

  test('SIGHUP: the file read again through the same path', async () => {
    const file = join(dir.path, 'signalled.yaml');
    const policy = testPolicy(sim.url);
    writeFileSync(file, stringify(policy));
    const child = await startMain(join(dir.path, 's.sqlite'), { LLM_POLICY_FILE: file, LLM_POLICY_WATCH: 'false' });
    children.push(child);
    assert.match(await versionOf(child), /^1-/);
    policy.classes['after-the-signal'] = { criticality: 'standard', route: ['premium-a'] };
    writeFileSync(file, stringify(policy));
    child.process.kill('SIGHUP');
    await until(async () => (await versionOf(child)).startsWith('2-'), 'version 2 after SIGHUP', 10_000);
    const history = (await call(child.url, '/admin/policy/history', { key: ADMIN_KEY })).json;
    assert.equal(history.data[0].source, 'signal');
    assert.match(history.data[0].actor, /^SIGHUP \(pid \d+\)$/);
    assert.equal(child.process.exitCode, null, 'still running');
  });

  test('the quick start with SIM_PORT moved: the sample policy follows it (${SIM_PORT:-4010}) and calls are served', async () => {
    const simPort = await freePort();
    const child = await startMain(join(dir.path, 'q.sqlite'), { SIM_PORT: String(simPort), LLM_REQUEST_LOG: 'false' });
    children.push(child);
    assert.match(child.output, new RegExp(`simulated provider on http://127\\.0\\.0\\.1:${simPort}`));
    const created = await call(child.url, '/admin/keys', { key: ADMIN_KEY, body: { tenant: 'quick' } });
    assert.equal(created.status, 201, created.text);
    const served = await call(child.url, '/v1/chat/completions', { key: created.json.key, body: { messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(served.status, 200, served.text);
    assert.match(served.json.choices[0].message.content, /^Simulated reply/);
  });
});
