/** One Server-Sent Event. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Told each whole event as the decoder finds it. */
export interface SseListener {
  sseEvent(event: SseEvent): void;
}

const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

/**
 * Incremental SSE parser: feed raw text as it arrives, get whole events back.
 * Handles CRLF and LF line endings and events split across chunks.
 *
 * Runs on every chunk of every stream: a field's value is the one string cut
 * from the text (no line string first), an event of one data line (nearly
 * all) is that string (no array, no join), and text consumed whole leaves no
 * remainder string; each event goes straight to the listener (an array of a
 * push's events was about 0.2 kB of garbage per chunk).
 */
export class SseDecoder {
  // Every field is set at construction, in one order: a decoder keeps one shape for its life. Set first by the first
  // event, they gave the per-chunk reads (push, dispatch, addData) two or three shapes to check.
  private buffer = '';
  private event: string | undefined = undefined;
  /** The event's first data line, then, only when there are more, all of them. */
  private data: string | undefined = undefined;
  private moreData: string[] | undefined = undefined;

  /** Feeds `text`; each event it completes goes to `listener` (one that throws leaves this decoder unusable). */
  push(text: string, listener: SseListener): void {
    const buffer = this.buffer.length === 0 ? text : this.buffer + text;
    let start = 0;
    for (;;) {
      const nl = buffer.indexOf('\n', start);
      if (nl < 0) break;
      const lineStart = start;
      start = nl + 1;
      const end = nl > lineStart && buffer.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (end === lineStart) {
        this.dispatch(listener);
        continue;
      }
      if (buffer.charCodeAt(lineStart) === COLON) continue;
      let colon = buffer.indexOf(':', lineStart);
      if (colon === -1 || colon > end) colon = end;
      let valueStart = colon < end ? colon + 1 : end;
      if (valueStart < end && buffer.charCodeAt(valueStart) === SPACE) valueStart++;
      const fieldLength = colon - lineStart;
      if (fieldLength === 4 && buffer.startsWith('data', lineStart)) this.addData(buffer.slice(valueStart, end));
      else if (fieldLength === 5 && buffer.startsWith('event', lineStart)) this.event = buffer.slice(valueStart, end);
    }
    this.buffer = start === buffer.length ? '' : buffer.slice(start);
  }

  /** Flush an event left unterminated when the stream ended. */
  end(listener: SseListener): void {
    if (this.buffer.length > 0) this.push('\n\n', listener);
    if (this.data === undefined) return;
    const event = { event: this.event, data: this.joinedData() };
    this.data = undefined;
    this.moreData = undefined;
    listener.sseEvent(event);
  }

  private addData(value: string): void {
    if (this.data === undefined) this.data = value;
    else (this.moreData ??= [this.data]).push(value);
  }

  private dispatch(listener: SseListener): void {
    if (this.data === undefined && this.event === undefined) return;
    const event = { event: this.event, data: this.joinedData() };
    this.event = undefined;
    this.data = undefined;
    this.moreData = undefined;
    listener.sseEvent(event);
  }

  private joinedData(): string {
    return this.moreData !== undefined ? this.moreData.join('\n') : (this.data ?? '');
  }
}
