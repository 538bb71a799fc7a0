import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRequestId } from './request-id.js';

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
