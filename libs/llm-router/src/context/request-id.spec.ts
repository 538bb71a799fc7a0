import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidRequestId, newRequestId } from './request-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newRequestId', () => {
  it('is a UUID version 7 with the RFC 9562 variant', () => {
    for (let i = 0; i < 1000; i++) assert.match(newRequestId(), UUID_V7);
  });

  it('carries the current millisecond in its first 48 bits', () => {
    const before = Date.now();
    const id = newRequestId();
    const after = Date.now();
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    assert.ok(ms >= before && ms <= after, `${ms} not within [${before}, ${after}]`);
  });

  it('sorts ids of later milliseconds after earlier ones, and never repeats', async () => {
    const first = newRequestId();
    await new Promise((r) => setTimeout(r, 3));
    const second = newRequestId();
    assert.ok(second > first, `${second} should sort after ${first}`);
    const many = new Set(Array.from({ length: 10_000 }, newRequestId));
    assert.equal(many.size, 10_000);
  });
});

describe('isValidRequestId', () => {
  it('takes UUIDs, ULIDs and vendor ids up to 128 characters of the safe set', () => {
    for (const id of [newRequestId(), '01J9ZQ4XW6M3K8C2V5B7N0P1QR', 'Root=1-5759e988-bd862e3fe1be46a994272793', 'a', 'x'.repeat(128), 'req_1.2:3@edge']) {
      assert.equal(isValidRequestId(id), true, id);
    }
  });

  it('refuses the empty, the too long, and anything that could break a header, a log line or a URL path', () => {
    for (const id of ['', 'x'.repeat(129), 'has space', 'line\nbreak', 'quote"', 'a/b', 'a?b', 'a%2F', 'ünï', 'a;b', 'a,b']) {
      assert.equal(isValidRequestId(id), false, JSON.stringify(id));
    }
  });
});
