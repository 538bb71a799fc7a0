/**
 * One full garbage collection that also hands memory back to the system: V8
 * collects all it can, shrinks the young generation back to its initial size
 * and lets go of the pages it kept for reuse. Neither an ordinary collection
 * nor one forced with `--expose-gc` shrinks the young generation, which grows
 * to 2 × 16 MB while the gateway starts (modules compiled, the policy built)
 * and stays there; V8's own memory reducer, which runs after 8 s at rest, gave
 * a gateway at rest after a load about 5 MB of ~200 back. This one took a
 * fresh gateway from 150 to 114 MB resident, and one at rest after a load from
 * 178 to 140.
 * It stops the event loop for the collection (tens of milliseconds at rest;
 * 90-270 ms on a 2-core machine busy with other work): for moments with no
 * traffic only (main.ts, IdleHeapTrim).
 * Asked through an in-process inspector session (`HeapProfiler.collectGarbage`):
 * it opens no port and needs no node flag.
 * Resolves false, and never rejects, where node was built without the
 * inspector or the collection was refused: the process goes on as it was.
 */
export async function trimHeap(): Promise<boolean> {
  let session: import('node:inspector').Session;
  try {
    const inspector = await import('node:inspector');
    session = new inspector.Session();
    session.connect();
  } catch {
    return false;
  }
  const done = await new Promise<boolean>((resolve) => session.post('HeapProfiler.collectGarbage', (err) => resolve(err === null)));
  // Not from within the answer's callback: disconnecting there never returns (node 20).
  setImmediate(() => session.disconnect());
  return done;
}
