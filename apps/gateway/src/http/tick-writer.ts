import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * A response's writes joined per tick: what is written while one upstream
 * read is handled (its events) goes out as one write when the tick's work is
 * done (no timer, no delay). One write is one HTTP chunk; a write per event
 * would frame and copy each one separately.
 */
export class TickWriter {
  private pending = '';
  private flushQueued = false;
  private corked = false;

  constructor(private readonly res: ServerResponse) {}

  /**
   * Sends the status and headers, in the same write as this tick's first events.
   * Node keeps a response's header block for the response's life, as the ~60
   * pieces it was joined from (about 2 KB per open stream); written on its own
   * (corked, so still one write with the events), it is flattened into one string, and once handed to the socket
   * it is let go of (see releaseSentHead).
   */
  writeHead(status: number, headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): void {
    this.res.writeHead(status, headers);
    this.cork();
    this.res.flushHeaders();
    releaseSentHead(this.res);
    this.queueFlush();
  }

  write(text: string): void {
    this.pending += text;
    this.queueFlush();
  }

  /** Ends the response with what is pending and `text`, in one write. */
  end(text: string): void {
    const last = this.pending + text;
    this.pending = '';
    this.res.end(last);
    this.uncork();
  }

  flushNow(): void {
    this.flushQueued = false;
    if (this.pending !== '' && !this.res.writableEnded) {
      const text = this.pending;
      this.pending = '';
      // Written corked and uncorked below: on an uncorked socket Node corks it itself and uncorks it a tick
      // later, one more tick per write (and each of a slow stream's chunks is one).
      this.cork();
      this.res.write(text);
    }
    this.uncork();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    process.nextTick(flush, this);
  }

  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.res.cork();
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.res.uncork();
  }
}

/** What a response's `_header` reads once its head was sent: any text but an empty one means "headers sent" to Node. */
export const SENT_HEAD = 'HTTP/1.1 (head sent)\r\n\r\n';

/**
 * Node keeps the response's head text (`_header`, ~440 characters and a join of two strings here: ~0.55 KB) for the
 * response's life, an open stream's included, though it writes it only once. Once the socket has it (`_headerSent`),
 * Node reads `_header` only as a flag (`headersSent`, the checks that refuse headers after it): a constant does.
 */
function releaseSentHead(res: ServerResponse): void {
  const out = res as ServerResponse & { _header: string | null; _headerSent: boolean };
  if (out._headerSent && out._header !== null) out._header = SENT_HEAD;
}

// A module function with the writer as its argument: no closure per response.
function flush(writer: TickWriter): void {
  writer.flushNow();
}
