import type { Socket } from 'node:net';

/** One write a socket made, under the number it was noted with. */
export interface Written {
  readonly socket: number;
  readonly text: string;
}

type Chunk = string | Uint8Array;
const textOf = (chunk: Chunk) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));

/** Notes every write `socket` makes, in the order made, under `socketNo`. */
export function noteWrites(socket: Socket, socketNo: number, writes: Written[]): void {
  const s = socket as unknown as { _write: (chunk: Chunk, ...rest: unknown[]) => void; _writev: (chunks: Array<{ chunk: Chunk }>, ...rest: unknown[]) => void };
  const write = s._write;
  const writev = s._writev;
  s._write = function (this: Socket, chunk: Chunk, ...rest: unknown[]) {
    writes.push({ socket: socketNo, text: textOf(chunk) });
    return write.call(this, chunk, ...rest);
  };
  s._writev = function (this: Socket, chunks: Array<{ chunk: Chunk }>, ...rest: unknown[]) {
    writes.push({ socket: socketNo, text: chunks.map((c) => textOf(c.chunk)).join('') });
    return writev.call(this, chunks, ...rest);
  };
}

/** Where each response's last bytes are in `writes`: the last write on its connection before the next response there starts (or the connection's last). */
function lastWriteOfEachResponse(writes: readonly Written[]): Map<string, number> {
  const lastWriteOf = new Map<string, number>();
  const current = new Map<number, string>();
  writes.forEach((w, at) => {
    if (w.socket === 0) return;
    const id = /x-llm-request-id: ([^\r\n]+)/i.exec(w.text)?.[1];
    if (id !== undefined) current.set(w.socket, id);
    const of = current.get(w.socket);
    if (of !== undefined) lastWriteOf.set(of, at);
  });
  return lastWriteOf;
}

/** The answers among `ids` whose last bytes did not come after a write on socket 0 (the journal's) naming them. */
export function endedBeforeTheirJournalWrite(writes: readonly Written[], ids: readonly string[]): string[] {
  const lastWriteOf = lastWriteOfEachResponse(writes);
  const journaledAt = (id: string) => writes.findIndex((w) => w.socket === 0 && w.text.includes(id));
  return ids.filter((id) => !(journaledAt(id) >= 0 && journaledAt(id) < lastWriteOf.get(id)!));
}
