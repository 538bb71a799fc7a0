/** One Server-Sent Event. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Incremental SSE parser: feed raw text as it arrives, get whole events back.
 * Handles CRLF and LF line endings and events split across chunks.
 */
export class SseDecoder {
  private buffer = '';
  private event: string | undefined;
  private data: string[] = [];

  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      let line = this.buffer.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length > 0 || this.event !== undefined) {
          events.push({ event: this.event, data: this.data.join('\n') });
        }
        this.event = undefined;
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Flush an event left unterminated when the stream ended. */
  end(): SseEvent[] {
    const rest = this.buffer.length > 0 ? this.push('\n\n') : [];
    if (this.data.length > 0) rest.push({ event: this.event, data: this.data.join('\n') });
    this.data = [];
    return rest;
  }
}
