import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { bearerToken, generateApiKey, hashApiKey, keyIdOf, keyMatches, secretsEqual } from './api-key.js';

test('generated keys: llmr_<12-char id>_<43-char secret>, distinct, hashed with SHA-256', () => {
  const a = generateApiKey();
  const b = generateApiKey();
  assert.match(a.secret, /^llmr_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.secret, b.secret);
  assert.notEqual(a.id, b.id);
  assert.equal(a.hash, createHash('sha256').update(a.secret).digest('hex'));
  assert.equal(hashApiKey(a.secret), a.hash);
  assert.equal(keyIdOf(a.secret), a.id);
});

test('keyIdOf: only well-formed keys', () => {
  const { secret } = generateApiKey();
  for (const bad of ['', 'llmr_', secret.slice(0, -1), `${secret}x`, secret.replace('llmr_', 'llmx_'), secret.toUpperCase(), `sk-${secret.slice(3)}`]) {
    assert.equal(keyIdOf(bad), undefined, bad);
  }
});

test('keyMatches: the right key only', () => {
  const { secret, hash } = generateApiKey();
  assert.equal(keyMatches(secret, hash), true);
  assert.equal(keyMatches(`${secret.slice(0, -1)}A` === secret ? `${secret.slice(0, -1)}B` : `${secret.slice(0, -1)}A`, hash), false);
  assert.equal(keyMatches(secret, hash.slice(0, 32)), false);
  // One differing character anywhere, first or last, fails.
  assert.equal(keyMatches(secret, `${hash[0] === '0' ? '1' : '0'}${hash.slice(1)}`), false);
  assert.equal(keyMatches(secret, `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}`), false);
});

test('bearerToken: the token of a Bearer header, case-insensitive scheme; anything else undefined', () => {
  assert.equal(bearerToken('Bearer abc.def'), 'abc.def');
  assert.equal(bearerToken('bearer   tok  '), 'tok');
  assert.equal(bearerToken(['Bearer first', 'Bearer second']), 'first');
  for (const bad of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Token abc', 'Bearerabc']) assert.equal(bearerToken(bad), undefined, String(bad));
});

test('secretsEqual: equal strings of any length', () => {
  assert.equal(secretsEqual('a-long-admin-key-123', 'a-long-admin-key-123'), true);
  assert.equal(secretsEqual('a-long-admin-key-123', 'a-long-admin-key-124'), false);
  assert.equal(secretsEqual('short', 'a-much-longer-value'), false);
});
