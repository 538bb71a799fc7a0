/**
 * The gateway's own start (dist/apps/gateway/src/main.js) with a bad policy
 * or environment: it stops with the list of offending paths, printed once,
 * without a framework stack, and exits non-zero.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from './gateway-support/harness.js';

const MAIN = new URL('../apps/gateway/src/main.js', import.meta.url).pathname;

/** main.js started on a policy file holding `policy` (and `extraEnv`), in a temporary directory: its exit status and everything it printed. */
function startWithPolicy(policy: string, extraEnv: Record<string, string> = {}): { status: number | null; output: string } {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'policy.yaml');
    writeFileSync(file, policy);
    const env = { PATH: process.env.PATH ?? '', LLM_POLICY_FILE: file, LLM_SQLITE_PATH: join(dir.path, 'g.sqlite'), ...extraEnv };
    const run = spawnSync(process.execPath, [MAIN], { env, encoding: 'utf8', timeout: 30_000 });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    dir.remove();
  }
}

test('a policy with errors: every offending path once, no stack, exit 1', () => {
  const { status, output } = startWithPolicy('providers: {}\nmodels: {}\nclasses: {}\n');
  assert.equal(status, 1, output);
  assert.equal(output.match(/Invalid LLM routing policy/g)?.length, 1, output);
  assert.match(output, /classes: at least one traffic class is required/);
  assert.doesNotMatch(output, /ExceptionHandler|    at /, 'no framework stack');
});

test('a policy naming an unset variable: the path and the variable, exit 1', () => {
  const { status, output } = startWithPolicy('providers:\n  p: { kind: openai, baseUrl: "${NOT_SET_ANYWHERE}" }\nmodels: {}\nclasses: {}\n');
  assert.equal(status, 1, output);
  assert.match(output, /providers\.p\.baseUrl: refers to \$\{NOT_SET_ANYWHERE\}/);
});

test('a bad LLM_HEAP_GROWING_PERCENT: the variable and what it takes, no stack, exit 1', () => {
  const { status, output } = startWithPolicy('providers: {}\nmodels: {}\nclasses: {}\n', { LLM_HEAP_GROWING_PERCENT: 'sixty' });
  assert.equal(status, 1, output);
  assert.match(output, /LLM_HEAP_GROWING_PERCENT must be a whole number from 0 \(V8's own sizing\) to 300, got \\?"sixty\\?"/);
  assert.doesNotMatch(output, /Invalid LLM routing policy/, 'refused before the policy is read');
  assert.doesNotMatch(output, /    at /, 'no stack');
});

test('a bad LLM_IDLE_TRIM_SECONDS: the variable and what it takes, no stack, exit 1', () => {
  const { status, output } = startWithPolicy('providers: {}\nmodels: {}\nclasses: {}\n', { LLM_IDLE_TRIM_SECONDS: '10s' });
  assert.equal(status, 1, output);
  assert.match(output, /LLM_IDLE_TRIM_SECONDS must be a whole number of seconds \(0: never\), got \\?"10s\\?"/);
  assert.doesNotMatch(output, /Invalid LLM routing policy/, 'refused before the policy is read');
  assert.doesNotMatch(output, /    at /, 'no stack');
});
