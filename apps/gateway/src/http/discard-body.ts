import type { IncomingMessage } from 'node:http';

/**
 * Reads and drops the rest of a body, up to `cap` more bytes, so that the
 * client has finished sending when the refusal is written (else it sees a
 * reset connection instead of the answer). Beyond `cap`, or if the client
 * goes away, it stops at once; the request timeout bounds the wait.
 */
export function discardRest(req: IncomingMessage, cap: number): Promise<void> {
  return new Promise((resolve) => {
    let dropped = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', done);
      req.off('aborted', done);
      req.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > cap) done();
    };
    if (req.readableEnded) return resolve();
    req.on('data', onData);
    req.on('end', done);
    req.on('aborted', done);
    req.on('error', done);
  });
}
