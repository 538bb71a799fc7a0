import { SseDecoder, type SseEvent } from '../providers/sse/sse-decoder.js';

/** The events of `pieces`, fed in order to one SseDecoder, then its end. */
export function sseEvents(...pieces: string[]): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  const listener = { sseEvent: (e: SseEvent) => events.push(e) };
  for (const piece of pieces) decoder.push(piece, listener);
  decoder.end(listener);
  return events;
}
