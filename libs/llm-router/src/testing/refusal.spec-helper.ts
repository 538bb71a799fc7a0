import assert from 'node:assert/strict';
import { LlmRouterError } from '../errors/llm-router.error.js';

/** The LlmRouterError `fn` throws; fails the test when it throws nothing or something else. */
export function refusal(fn: () => unknown): LlmRouterError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof LlmRouterError, `expected an LlmRouterError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}
