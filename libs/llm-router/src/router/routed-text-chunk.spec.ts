import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteOutcome } from '../execution/route-outcome.js';
import { OpenAiTextChunk } from '../providers/openai/openai-chunk-text.js';
import { RoutedTextChunk } from './routed-text-chunk.js';

const outcome: RouteOutcome = { requestId: 'r1', trafficClass: 'default', model: 'fast-chat', provider: 'openai', upstreamModel: 'gpt-4o-mini', fallback: false, attempts: 1 };
const json = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"fast-chat","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';

describe('a routed chunk passed on as text', () => {
  it('reads and destructures as a parsed chunk, and stringifies whole', () => {
    const routed = new RoutedTextChunk(outcome, new OpenAiTextChunk(json, 0.5));
    const { chunk, json: text } = routed;
    assert.deepEqual(chunk, JSON.parse(json));
    assert.equal(routed.chunk, chunk, 'parsed once');
    assert.equal(text, json);
    assert.deepEqual(JSON.parse(JSON.stringify(routed)), { chunk: JSON.parse(json), outcome, json });
  });
});
