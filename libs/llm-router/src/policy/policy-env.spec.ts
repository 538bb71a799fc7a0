import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolatePolicyEnv } from './policy-env.js';
import { PolicyValidationError } from './policy-validation.error.js';

test('${VAR} and ${VAR:-default} in string values; other values untouched', () => {
  const doc = { providers: { sim: { baseUrl: 'http://127.0.0.1:${SIM_PORT:-4010}/v1', apiKeyEnv: 'KEY', timeouts: { connectMs: 500 } } }, list: ['${A}', '$${literal}'] };
  assert.deepEqual(interpolatePolicyEnv(doc, { A: 'x' }, 'policy'), {
    providers: { sim: { baseUrl: 'http://127.0.0.1:4010/v1', apiKeyEnv: 'KEY', timeouts: { connectMs: 500 } } },
    list: ['x', '${literal}'],
  });
  assert.equal((interpolatePolicyEnv({ u: '${SIM_PORT:-4010}' }, { SIM_PORT: '4011' }, 'policy') as { u: string }).u, '4011');
});

test('every unset variable without a default is named with its path, at once', () => {
  assert.throws(
    () => interpolatePolicyEnv({ a: { b: '${NOPE}' }, c: ['${ALSO_NOPE}'] }, {}, 'policy file p.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof PolicyValidationError);
      assert.deepEqual(err.issues.map((i) => i.path), ['a.b', 'c[0]']);
      assert.match(err.message, /NOPE.*not set/);
      return true;
    },
  );
});
