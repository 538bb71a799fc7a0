import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

/** Whether `String.prototype` has fast properties in a fresh process once `specifier` is imported (V8's own test, behind a flag). */
function stringPrototypeFastAfter(specifier: string): boolean {
  const script = `await import(${JSON.stringify(specifier)}); process.stdout.write(String(%HasFastProperties(String.prototype)));`;
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout === 'true';
}

test('loading the Redis stores leaves String.prototype with fast properties (ioredis alone leaves it a dictionary)', () => {
  const ours = new URL('./flat-command.js', import.meta.url).href;
  assert.equal(stringPrototypeFastAfter(ours), true);
  // What the module mends: when a later ioredis no longer does it, this says so (the mend is then a no-op).
  assert.equal(stringPrototypeFastAfter('ioredis'), false, 'ioredis alone no longer slows String.prototype: fast-string-prototype.ts can go');
});
