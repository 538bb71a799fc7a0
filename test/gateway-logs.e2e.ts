/**
 * The gateway's and the simulator's own output (issue #17, telemetry): run
 * as `npm start` runs them (dist main.js, stdout not a terminal), every line
 * is one JSON object with time, level, context and msg, Nest's own lines
 * included, without ANSI colours; a request's log line carries its request
 * id; a fatal start-up error is such a line too. LLM_LOG_FORMAT=text keeps
 * Nest's human lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { tempDir, until } from './gateway-support/harness.js';
import { gatewayBaseUrl, GATEWAY_MAIN as GATEWAY, REPO_ROOT as ROOT, runMain as run, SIMULATOR_MAIN as SIMULATOR } from './gateway-support/main-process.js';

function assertJsonLines(lines: readonly string[]): Record<string, unknown>[] {
  assert.ok(lines.length > 0);
  return lines.map((line) => {
    assert.ok(!line.includes('\u001b['), `ANSI colour in ${line}`);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line);
    } catch {
      assert.fail(`not a JSON line: ${line}`);
    }
    assert.deepEqual(Object.keys(parsed).filter((k) => ['time', 'level', 'context', 'msg'].includes(k)).sort(), ['context', 'level', 'msg', 'time'], line);
    assert.ok(Number.isFinite(Date.parse(String(parsed.time))), line);
    assert.match(String(parsed.level), /^(info|warn|error|fatal)$/, line);
    return parsed;
  });
}

test('the gateway\'s start, a request and its shutdown: one JSON object per line, Nest\'s own included', async () => {
  const dir = tempDir();
  const gw = run(GATEWAY, { PORT: '0', SIM_PORT: '0', LLM_SQLITE_PATH: `${dir.path}/g.sqlite` });
  try {
    const base = await gatewayBaseUrl(gw);
    await until(() => gw.lines.some((l) => l.includes('DEV ONLY')), 'the dev admin key line');
    const parsed = assertJsonLines(gw.lines);
    assert.ok(parsed.some((l) => l.context === 'NestFactory' && l.msg === 'Starting Nest application...'), 'Nest\'s own lines');
    assert.ok(parsed.some((l) => l.context === 'RouterExplorer'), 'Nest\'s route lines');
    // The dev-only admin key, shown to be pasted: the one secret a line may carry.
    const dev = parsed.find((l) => String(l.msg).startsWith('DEV ONLY'));
    assert.equal(dev?.level, 'warn');
    assert.match(String(dev?.msg), /export ADMIN_KEY=llmr_admin_dev_[A-Za-z0-9_-]{20,}\n/);
    // A request: its log line has the same fields and the caller's request id.
    const adminKey = /export ADMIN_KEY=(\S+)/.exec(String(dev!.msg))![1]!;
    const created = await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: '{"tenant":"acme"}' });
    const { key } = (await created.json()) as { key: string };
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': 'logs-e2e-1' },
      body: '{"messages":[{"role":"user","content":"hi"}]}',
    });
    assert.equal(res.headers.get('x-request-id'), 'logs-e2e-1');
    await until(() => gw.lines.some((l) => l.includes('logs-e2e-1')), 'the request log line', 10_000);
    const request = assertJsonLines(gw.lines).find((l) => l.requestId === 'logs-e2e-1')!;
    assert.deepEqual([request.context, request.msg], ['Request', 'llm.request']);
  } finally {
    await gw.stop();
    dir.remove();
  }
  const parsed = assertJsonLines(gw.lines);
  assert.ok(parsed.some((l) => l.context === 'Records' && String(l.msg).startsWith('shutdown:')), 'the shutdown lines too');
});

test('a fatal start-up error is one JSON line; LLM_LOG_FORMAT=text gives Nest\'s human lines; a bad format is refused', () => {
  const dir = tempDir();
  try {
    const env = { PATH: process.env.PATH ?? '', LLM_POLICY_FILE: `${dir.path}/missing.yaml`, LLM_SQLITE_PATH: `${dir.path}/g.sqlite` };
    const fatal = spawnSync(process.execPath, [GATEWAY], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(fatal.status, 1);
    const [line, ...more] = assertJsonLines(`${fatal.stdout}${fatal.stderr}`.trim().split('\n'));
    assert.equal(more.length, 0, fatal.stderr);
    assert.equal(line!.level, 'fatal');
    assert.match(String(line!.msg), /missing\.yaml/);

    const text = spawnSync(process.execPath, [GATEWAY], { cwd: ROOT, env: { ...env, LLM_LOG_FORMAT: 'text' }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(text.status, 1);
    assert.match(text.stderr, /FATAL \[Gateway\] .*missing\.yaml/);
    assert.ok(!text.stderr.includes('\u001b['), 'no ANSI colours in text either');

    const bad = spawnSync(process.execPath, [GATEWAY], { cwd: ROOT, env: { ...env, LLM_LOG_FORMAT: 'pretty' }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(bad.status, 1);
    assert.match(JSON.parse(bad.stderr.trim()).msg, /LLM_LOG_FORMAT must be json or text/);
  } finally {
    dir.remove();
  }
});

test('the simulator logs the same shape', async () => {
  const sim = run(SIMULATOR, { SIM_PORT: '0' });
  try {
    await until(() => sim.lines.length > 0, 'the simulator listening', 15_000);
  } finally {
    await sim.stop();
  }
  const [line] = assertJsonLines(sim.lines);
  assert.equal(line!.context, 'Simulator');
  assert.match(String(line!.msg), /^LLM simulator listening on http:\/\/127\.0\.0\.1:\d+/);
  const bad = spawnSync(process.execPath, [SIMULATOR], { env: { PATH: process.env.PATH ?? '', SIM_PORT: 'nope' }, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(assertJsonLines([bad.stderr.trim()])[0]!.level, 'error');
});
