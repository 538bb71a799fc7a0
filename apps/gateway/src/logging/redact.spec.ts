import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact } from './redact.js';

test('redact: gateway keys, provider keys, bearer tokens and key=value pairs', () => {
  const key = 'llmr_abcdefghijkl_0123456789abcdefghijABCDEFGHIJ-_0123456789abc';
  assert.equal(redact(`bad key ${key} here`), 'bad key llmr_[redacted] here');
  assert.equal(redact('Incorrect API key provided: sk-proj-abc123****wxyz.'), 'Incorrect API key provided: sk-[redacted]');
  assert.equal(redact('x sk-ant-api03-AbCdEf012345 y'), 'x sk-[redacted] y');
  assert.equal(redact('Authorization: Bearer eyJhbGciOi.JIUzI1N'), 'Authorization: Bearer [redacted]');
  assert.equal(redact('GET /v1?api_key=s3cr3tvalue&x=1'), 'GET /v1?api_key=[redacted]&x=1');
  assert.equal(redact('{"password": "hunter22"}'), '{"password": "[redacted]"}');
  assert.equal(redact('Service overloaded (529)'), 'Service overloaded (529)');
});
