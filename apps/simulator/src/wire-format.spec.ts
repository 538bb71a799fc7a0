import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateTokens, head, simulatedText, splitChunks } from './wire-format.js';

describe('wire-format helpers', () => {
  it('splits text into at most n near-equal non-empty chunks that rejoin exactly', () => {
    const text = 'Simulated reply from gpt-4o: hello world';
    for (const n of [1, 3, 8, 100]) {
      const parts = splitChunks(text, n);
      assert.equal(parts.join(''), text);
      assert.ok(parts.length <= Math.min(n, text.length) + 1, `n=${n}`);
      assert.ok(parts.every((p) => p.length > 0));
    }
    assert.equal(splitChunks(text, 8).length, 8);
    assert.deepEqual(splitChunks('', 8), []);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀😀😀😀';
    for (const part of splitChunks(text, 3)) assert.equal([...part].join(''), part, 'no lone surrogates');
    assert.equal(splitChunks(text, 3).join(''), text);
    assert.equal(head('ab😀', 3), 'ab');
  });

  it('builds the deterministic reply text and token estimate', () => {
    assert.equal(simulatedText('m', 'x'.repeat(100)), `Simulated reply from m: ${'x'.repeat(60)}`);
    assert.equal(estimateTokens(0), 0);
    assert.equal(estimateTokens(9), 3);
  });
});
