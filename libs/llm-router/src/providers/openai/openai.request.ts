import type { ChatCompletionRequest } from '../../chat/chat-completion.types.js';
import type { AdapterTarget, UpstreamRequest } from '../provider-adapter.interface.js';

/**
 * OpenAI-compatible upstreams take the router's request as-is: only the model
 * id and the stream flags change. One shallow copy, one JSON.stringify.
 */
export function buildOpenAiRequest(request: ChatCompletionRequest, target: AdapterTarget, stream: boolean): UpstreamRequest {
  const { model: _model, stream: _stream, stream_options: _streamOptions, ...rest } = request;
  const body = stream
    ? { model: target.upstreamModel, ...rest, stream: true, stream_options: { include_usage: true } }
    : { model: target.upstreamModel, ...rest };
  const { path, headers } = addressOf(target);
  return { path, headers, body: JSON.stringify(body) };
}

/** Each target's path and headers, made on its first request and shared by every later one (nothing changes them). */
const addresses = new WeakMap<AdapterTarget, { readonly path: string; readonly headers: Readonly<Record<string, string>> }>();

function addressOf(target: AdapterTarget): { readonly path: string; readonly headers: Readonly<Record<string, string>> } {
  let address = addresses.get(target);
  if (address === undefined) {
    address = { path: `${target.basePath}/chat/completions`, headers: Object.freeze(openAiHeaders(target)) };
    addresses.set(target, address);
  }
  return address;
}

export function openAiHeaders(target: AdapterTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  return Object.assign(headers, target.headers);
}
