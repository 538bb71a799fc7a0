/**
 * The record journal in files under load: every answer's last bytes leave the
 * gateway after its record's line was written to the journal file, also now
 * that the lines of a pass of the event loop after its first share one write
 * at its end (HeldEnds). Each `writeSync` of the process (node:fs's own
 * export, wrapped) and each write on every client connection is noted in order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sqliteStore, startGw, startSim, tempDir, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { callsUnderLoad } from './support/journal-order-load.js';
import { endedBeforeTheirJournalWrite, noteWrites, type Written } from './support/socket-writes.js';

describe('the record journal in files: answers end after their records are written', () => {
  const dir = tempDir();
  const writes: Written[] = [];
  const realWriteSync = fs.writeSync;
  let sim: SimulatorHandle;
  let gw: Gw;

  before(async () => {
    // Socket 0: the file journal's writes (and any other writeSync of the process, which name no request).
    fs.writeSync = ((fd: number, data: unknown, ...rest: unknown[]) => {
      writes.push({ socket: 0, text: String(data) });
      return (realWriteSync as (...a: unknown[]) => number)(fd, data, ...rest);
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    sim = await startSim();
    gw = await startGw(sim, { store: sqliteStore(dir.path), auth: 'disabled' });
    // From the first connection on: the client keeps its connections from one test to the next.
    let sockets = 0;
    gw.app.getHttpServer().on('connection', (socket: Socket) => noteWrites(socket, ++sockets, writes));
  });
  after(async () => {
    fs.writeSync = realWriteSync;
    syncBuiltinESMExports();
    await gw?.close();
    await sim?.close();
    dir.remove();
  });

  // That it goes at once, not at the pass's end, is the spec's to show (record-journal-pass-write.spec.ts): from outside both look alike.
  test('one call at a time: its line in a write of its own', async () => {
    writes.length = 0;
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
        body: JSON.stringify({ messages: [{ role: 'user', content: `alone ${i}` }] }),
      });
      await res.text();
      assert.equal(res.status, 200);
    }
    const journalWrites = writes.filter((w) => w.socket === 0 && w.text.includes('acme'));
    assert.deepEqual(
      journalWrites.map((w) => w.text.split('\n').filter(Boolean).length),
      [1, 1, 1, 1],
    );
  });

  test('under load (completions and streams at once), each answer ends after the write carrying its line', async () => {
    writes.length = 0;
    const linesPerWrite = () => writes.filter((w) => w.socket === 0).map((w) => w.text.split('\n').filter((l) => l.includes('acme')).length);
    const ids = await callsUnderLoad(gw.url, () => Math.max(0, ...linesPerWrite()) > 1);

    const early = endedBeforeTheirJournalWrite(writes, ids);
    assert.deepEqual(early, [], "answers whose last bytes left before their record's line was written");
    assert.ok(ids.length >= 96);
    assert.ok(Math.max(...linesPerWrite()) > 1, 'some lines shared a write: the load this test is about');
  });
});
