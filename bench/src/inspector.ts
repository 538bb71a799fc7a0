/**
 * A full garbage collection in a measured Node process, then its memory, over
 * the V8 inspector: what a process holds for live objects, whatever the
 * collector's timing. RSS read at an arbitrary moment mixes live memory with
 * garbage not yet collected, so a before/after difference can come out
 * negative (the open-stream run's did). Every process the fleet starts runs
 * with `--inspect-port=0`, which only chooses the port: the inspector is off
 * (no cost) until SIGUSR1 opens it, on a free port Node prints to stderr.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { WebSocket } from 'undici';
import { sleep, type Service } from './processes.js';

/** The flag that lets `collectedMemory` reach a process: put it in the process's NODE_OPTIONS. */
export const INSPECTABLE = '--inspect-port=0';

export interface CollectedMemory {
  readonly rssMB: number;
  readonly heapUsedMB: number;
  /** Memory of C++ objects bound to JS ones, array buffers included (socket and stream buffers). */
  readonly externalMB: number;
}

const urls = new Map<number, string>();

/** What the process wrote to its output from byte `from` on, at most `max` bytes. */
function outputSince(s: Service, from: number, max: number): string {
  const fd = openSync(s.logPath, 'r');
  try {
    // Not zero-filled: only the bytes read are decoded.
    const buf = Buffer.allocUnsafe(max);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, max, from));
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens the process's inspector (SIGUSR1) once, and finds its address in what the process wrote after the signal. Not
 * in its last lines: a gateway under load logs a line per request, which pushed the address out of them before a busy
 * benchmark read them (then it read the whole growing file, synchronously, a hundred times a sample: a soak's client
 * starved, its gateway sat idle).
 */
export async function inspectorUrl(s: Service): Promise<string> {
  const known = urls.get(s.pid);
  if (known) return known;
  const from = statSync(s.logPath).size;
  process.kill(s.pid, 'SIGUSR1');
  for (let i = 0; i < 100; i++) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(outputSince(s, from, 1 << 20));
    if (m) {
      urls.set(s.pid, m[1]!);
      return m[1]!;
    }
    await sleep(50);
  }
  throw new Error(`${s.name}: its inspector did not open (was it started with ${INSPECTABLE}?)`);
}

/** Sends the protocol's calls in order on one connection; the answers' results. */
async function call(url: string, calls: readonly [method: string, params?: object][]): Promise<any[]> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`inspector ${url}: connection failed`));
  });
  try {
    const results: any[] = [];
    for (let id = 1; id <= calls.length; id++) {
      const [method, params] = calls[id - 1]!;
      results.push(
        await new Promise((resolve, reject) => {
          ws.onmessage = (e) => {
            const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
            if (m.id !== id) return;
            if (m.error) reject(new Error(`inspector ${method}: ${m.error.message}`));
            else resolve(m.result);
          };
          ws.send(JSON.stringify({ id, method, params: params ?? {} }));
        }),
      );
    }
    return results;
  } finally {
    // The inspector takes one client at a time: the next call waits for this one to be gone.
    await new Promise<void>((resolve) => {
      ws.onclose = () => resolve();
      ws.close();
    });
  }
}

const MB = (bytes: number) => bytes / 2 ** 20;

/** A full (mark-compact) collection in the process, then its resident memory, heap in use and external memory. */
export async function collectedMemory(s: Service): Promise<CollectedMemory> {
  const [, evaluated] = await call(await inspectorUrl(s), [
    ['HeapProfiler.collectGarbage'],
    ['Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true }],
  ]);
  const m = JSON.parse(evaluated.result.value as string) as NodeJS.MemoryUsage;
  return { rssMB: MB(m.rss), heapUsedMB: MB(m.heapUsed), externalMB: MB(m.external) };
}
