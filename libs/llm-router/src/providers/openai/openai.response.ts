import type { ChatCompletion } from '../../chat/chat-completion.types.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import { isObject, safeJsonParse } from '../http-errors.js';
import type { AdapterTarget } from '../provider-adapter.interface.js';
import { isOpenAiErrorPayload, openAiInBandFailure } from './openai.errors.js';
import { modelField, rewriteModelField } from './openai-model-field.js';

/**
 * Parses a 2xx chat completion. The parsed object is fresh, so `model` is
 * rewritten in place (no copy); `text` is the body with the same rewrite, when
 * it can be sent on as it is. Throws an UpstreamFailure for a body that is an
 * error in disguise or not a completion at all.
 */
export function parseOpenAiCompletion(body: string, target: AdapterTarget): { completion: ChatCompletion; text: string | undefined } {
  const parsed = safeJsonParse(body);
  if (!isObject(parsed)) {
    throw new UpstreamFailure({ category: 'transient', status: 200, code: 'invalid_response', message: 'upstream answered 200 with a body that is not JSON' });
  }
  if (isOpenAiErrorPayload(parsed)) throw openAiInBandFailure(parsed);
  if (!Array.isArray(parsed.choices)) {
    throw new UpstreamFailure({ category: 'transient', status: 200, code: 'invalid_response', message: 'upstream answered 200 with no choices' });
  }
  const text = typeof parsed.model === 'string' ? rewriteModelField(body, modelField(parsed.model), modelField(target.model)) : undefined;
  parsed.model = target.model;
  if (parsed.usage === null) delete parsed.usage;
  return { completion: parsed as unknown as ChatCompletion, text };
}
