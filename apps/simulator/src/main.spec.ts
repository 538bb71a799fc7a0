import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { postJson } from './spec-helpers.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Start the CLI; resolves with the URL from its one log line. */
async function launch(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+?)[\s(]/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  return { child, url };
}

describe('simulator CLI', () => {
  it('logs its URL, loads SIM_FAULTS, and exits cleanly on SIGTERM', async () => {
    const { child, url } = await launch({ SIM_PORT: '0', SIM_FAULTS: '[{"match":{"model":"bad"},"fault":{"error":"auth"}}]' });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await postJson(`${url}/openai/v1/chat/completions`, { model: 'bad', messages: [{ role: 'user', content: 'x' }] })).status, 401);
    assert.equal((await postJson(`${url}/openai/v1/chat/completions`, { model: 'good', messages: [{ role: 'user', content: 'x' }] })).status, 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('loads SIM_FAULTS_FILE', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sim-')), 'faults.json');
    writeFileSync(file, JSON.stringify({ fault: { error: 'overloaded' } }));
    const { child, url } = await launch({ SIM_PORT: '0', SIM_FAULTS_FILE: file });
    assert.equal((await postJson(`${url}/openai/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] })).status, 503);
    child.kill('SIGINT');
    assert.equal((await once(child, 'exit'))[0], 0);
  });

  it('refuses invalid fault configuration with exit code 1', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, SIM_PORT: '0', SIM_FAULTS: '{"fault":{"error":"nope"}}' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    const [code] = await once(child, 'exit');
    assert.equal(code, 1);
    assert.match(err, /error must be one of/);
  });
});
