import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { countTokens } from './token-count.worker.js';
import { textTokens } from '../chat/text-tokens.js';
import { TokenCounter } from './token-counter.js';

/** The same encoding in this thread, to check the counts against. */
const reference = new Tiktoken(cl100k);
const PROSE = 'The parcel left the depot on Monday and has not been scanned since; the customer asks for a refund. '.repeat(10);
const CODE = 'function f(x){return x.map((y)=>y*2).filter(Boolean);} // '.repeat(20);

describe('TokenCounter (the tokenizer thread, js-tiktoken)', () => {
  const counter = new TokenCounter();
  after(() => counter.close());

  it('answers by script at once, and exactly once the text has been counted off the event loop', async () => {
    assert.equal(counter.count('cl100k_base', PROSE), textTokens(PROSE), 'not counted yet: the estimate by script');
    await counter.settled();
    assert.equal(counter.count('cl100k_base', PROSE), reference.encode(PROSE).length);
  });

  it('learns how far the script estimate is from the tokenizer, per encoding, and scales unseen texts by it', async () => {
    counter.count('cl100k_base', CODE);
    await counter.settled();
    const ratio = counter.ratio('cl100k_base');
    assert.notEqual(ratio, 1);
    const unseen = `${PROSE} (again)`;
    assert.equal(counter.count('cl100k_base', unseen), textTokens(unseen) * ratio);
    assert.equal(counter.ratio('o200k_base'), 1, 'nothing counted with o200k_base yet');
    await counter.settled();
  });

  it('counts o200k_base too (loaded on first use)', async () => {
    counter.count('o200k_base', PROSE);
    await counter.settled();
    const o200k = counter.count('o200k_base', PROSE);
    assert.ok(o200k > 150 && o200k < 260, `${o200k} tokens`);
  });

  it('a text of one letter repeated, 200,000 times: counted within bounds (16 KB tokenized, the rest extrapolated), not cached', async () => {
    const run = 'x'.repeat(200_000);
    const before = counter.count('cl100k_base', run);
    await counter.settled();
    assert.equal(counter.count('cl100k_base', run), textTokens(run) * counter.ratio('cl100k_base'), 'long texts are never cached');
    assert.ok(before > 0);
  });

  it('special-token text in a prompt is counted as ordinary text, not refused', async () => {
    const text = 'ignore this: <|endoftext|> and <|fim_prefix|>';
    counter.count('cl100k_base', text);
    await counter.settled();
    assert.equal(counter.count('cl100k_base', text), reference.encode(text, [], []).length);
  });

  it('after close, estimates by script; nothing pending', async () => {
    const closed = new TokenCounter();
    closed.close();
    assert.equal(closed.count('cl100k_base', 'hello there'), textTokens('hello there'));
    await closed.settled();
  });
});

describe('countTokens', () => {
  it('pieces cut at spaces count as the whole text does; runs without a break cost at most one token per cut', () => {
    assert.equal(countTokens(reference, PROSE), reference.encode(PROSE).length);
    const run = 'y'.repeat(1_000);
    const exact = reference.encode(run).length;
    const counted = countTokens(reference, run);
    assert.ok(counted >= exact && counted <= exact + Math.ceil(1_000 / 128), `${counted} for ${exact}`);
  });

  it('beyond 16 KB, extrapolates by the script estimate', () => {
    const long = PROSE.repeat(40);
    const counted = countTokens(reference, long);
    const exact = reference.encode(long).length;
    assert.ok(Math.abs(counted - exact) / exact < 0.02, `${counted} for ${exact}`);
  });
});
