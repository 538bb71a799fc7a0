import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultBook, FaultRuleError, findDirectives, parseFaultHeader, parseFaultRule, parseFaultRules, resolveFault } from './fault-rules.js';

const openai = { model: 'gpt-4o', format: 'openai', stream: false } as const;

describe('fault rule validation', () => {
  it('accepts a full rule and copies only known fields', () => {
    const rule = parseFaultRule({
      id: 'r1',
      match: { model: 'gpt-4o', format: 'openai', stream: true },
      times: 2,
      fault: { error: 'rate_limit', retryAfter: 3, latencyMs: 5, chunkDelayMs: 1, streamCutAfter: 0, chunks: 4 },
    });
    assert.deepEqual(rule, {
      id: 'r1',
      match: { model: 'gpt-4o', format: 'openai', stream: true },
      times: 2,
      fault: { error: 'rate_limit', retryAfter: 3, latencyMs: 5, chunkDelayMs: 1, streamCutAfter: 0, chunks: 4 },
    });
  });

  it('rejects malformed rules with a message naming the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /fault is required/],
      [{ fault: { error: 'ratelimit' } }, /error must be one of/],
      [{ fault: { status: 99 } }, /status/],
      [{ fault: { status: 600 } }, /status/],
      [{ fault: { latencyMs: -1 } }, /latencyMs/],
      [{ fault: { hang: 'yes' } }, /hang must be a boolean/],
      [{ fault: { usageScale: 0 } }, /usageScale must be a number > 0/],
      [{ fault: { usageScale: -2 } }, /usageScale/],
      [{ fault: { streamCutAfter: 1.5 } }, /streamCutAfter/],
      [{ fault: { streamMalformedAfter: -1 } }, /streamMalformedAfter/],
      [{ fault: { malformedData: 'two\nlines' } }, /malformedData must be a single-line string/],
      [{ fault: { errror: 'auth' } }, /unknown field 'errror'/],
      [{ fault: {}, times: 0 }, /times/],
      [{ fault: {}, match: { format: 'gemini' } }, /format/],
      [{ fault: {}, match: { modle: 'x' } }, /unknown field 'modle'/],
      [{ fault: {}, surprise: 1 }, /unknown field 'surprise'/],
      ['nope', /must be an object/],
    ];
    for (const [input, message] of bad) {
      assert.throws(() => parseFaultRule(input), (err: unknown) => err instanceof FaultRuleError && message.test(err.message), JSON.stringify(input));
    }
  });

  it('parses one rule or an array, naming the index on error', () => {
    assert.equal(parseFaultRules({ fault: {} }).length, 1);
    assert.equal(parseFaultRules([{ fault: {} }, { fault: { hang: true } }]).length, 2);
    assert.throws(() => parseFaultRules([{ fault: {} }, { fault: { error: 'x' } }]), /rules\[1\]\.fault\.error/);
  });
});

describe('FaultBook', () => {
  it('applies the first matching rule in insertion order and counts down times', () => {
    const book = new FaultBook();
    const ids = book.add([
      { match: { model: 'claude' }, fault: { error: 'overloaded' } },
      { id: 'twice', match: { model: 'gpt-4o' }, times: 2, fault: { error: 'rate_limit' } },
      { fault: { error: 'server_error' } },
    ]);
    assert.deepEqual(ids, ['fault_1', 'twice', 'fault_2']);
    assert.equal(book.take(openai)?.error, 'rate_limit');
    assert.equal(book.list().find((r) => r.id === 'twice')?.remaining, 1);
    assert.equal(book.take(openai)?.error, 'rate_limit');
    assert.equal(book.take(openai)?.error, 'server_error', 'exhausted rule is gone');
    assert.equal(book.size, 2);
    assert.equal(book.take({ ...openai, model: 'claude' })?.error, 'overloaded');
  });

  it('matches on format and stream', () => {
    const book = new FaultBook();
    book.add([
      { match: { format: 'anthropic' }, fault: { error: 'auth' } },
      { match: { stream: true }, fault: { streamCutAfter: 1 } },
    ]);
    assert.equal(book.take(openai), undefined);
    assert.equal(book.take({ ...openai, format: 'anthropic' })?.error, 'auth');
    assert.equal(book.take({ ...openai, stream: true })?.streamCutAfter, 1);
  });

  it('folds the rule-level chunks shorthand into the fault, and adds nothing when one rule is invalid', () => {
    const book = new FaultBook();
    book.add({ chunks: 3, fault: { chunkDelayMs: 1 } });
    assert.deepEqual(book.take(openai), { chunkDelayMs: 1, chunks: 3 });
    book.clear();
    assert.throws(() => book.add([{ fault: {} }, { fault: { error: 'nope' } }]));
    assert.equal(book.size, 0);
  });
});

describe('[[sim]] directives', () => {
  it('finds several directives, with brackets and ]] inside JSON strings', () => {
    const text = 'hi [[sim {"model":"a","error":"auth"}]] and [[sim  {"body":{"x":[1,[2]]},"status":500,"retryAfter":"]]"} ]] bye';
    assert.deepEqual(findDirectives(text), [
      { model: 'a', error: 'auth' },
      { body: { x: [1, [2]] }, status: 500, retryAfter: ']]' },
    ]);
  });

  it('treats an incomplete or JSON-less directive as text (a reply may echo a truncated one)', () => {
    assert.deepEqual(findDirectives('[[sim is a tag]]'), []);
    assert.deepEqual(findDirectives('reply: [[sim {"model":"gpt-4o","error":"overl'), []);
    assert.deepEqual(findDirectives('[[sim {"error":"auth"} and more'), []);
    assert.deepEqual(findDirectives('[[sim {"error":"auth"}]'), []);
  });

  it('throws on a complete directive with bad JSON or fields', () => {
    assert.throws(() => findDirectives('[[sim {error: auth}]]'), /not valid JSON/);
    assert.throws(() => findDirectives('[[sim {"error":"nope"}]]'), /error must be one of/);
    assert.throws(() => findDirectives('[[sim {"model":5}]]'), /model must be a string/);
  });

  it('resolves rule, header and directives in that order, skipping other models', () => {
    const fault = resolveFault(
      { latencyMs: 10, error: 'server_error' },
      '[{"model":"gpt-4o","retryAfter":1},{"model":"other","hang":true}]',
      ['x [[sim {"model":"gpt-4o","error":"rate_limit"}]]', '[[sim {"model":"claude","reset":true}]]'],
      'gpt-4o',
    );
    assert.deepEqual(fault, { latencyMs: 10, error: 'rate_limit', retryAfter: 1 });
    assert.equal(resolveFault(undefined, undefined, ['[[sim {"model":"claude","error":"auth"}]]'], 'gpt-4o'), undefined);
    assert.deepEqual(resolveFault(undefined, '{"error":"quota"}', [], 'm'), { error: 'quota' });
  });

  it('rejects a malformed x-sim-fault header', () => {
    assert.throws(() => parseFaultHeader('{nope'), /x-sim-fault header is not valid JSON/);
    assert.throws(() => parseFaultHeader('[{"hang":1}]'), /x-sim-fault\[0\]\.hang/);
  });
});
