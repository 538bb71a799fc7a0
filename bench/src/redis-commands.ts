/**
 * The Redis commands one process sends while some work runs, counted exactly:
 * MONITOR on the Redis it talks to, keeping the commands that come from the
 * process's own connections (by their local ports, from its sockets). Commands
 * a Lua script runs inside Redis are not counted (the EVALSHA that runs it is).
 * A count, not a time; other clients of the same Redis (other processes, the
 * test suite) are left out.
 */
import { connect } from 'node:net';
import { clientPorts, sleep } from './processes.js';

/** Commands sent after the work's last response (a settle, a journal flush on a timer) still count when they come within this. */
const TRAILING_MS = 300;

/**
 * A MONITOR connection on a plain socket (a client library's monitor mode can
 * take the first lines for replies when they come in the same read as the OK):
 * every line after `+OK` is `+<time> [<db> <client address>|lua] "<command>" ...`.
 */
async function monitor(redisUrl: string, onSource: (source: string) => void): Promise<{ close(): void }> {
  const url = new URL(redisUrl);
  const socket = connect(Number(url.port || 6379), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  if (url.password) socket.write(`AUTH ${url.username ? `${decodeURIComponent(url.username)} ` : ''}${decodeURIComponent(url.password)}\r\n`);
  socket.write('MONITOR\r\n');
  let rest = '';
  let started: () => void;
  const ok = new Promise<void>((resolve) => (started = resolve));
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line === '+OK') started();
      else if (line.startsWith('-')) socket.destroy(new Error(`MONITOR: ${line.slice(1)}`));
      else {
        const m = /^\+\S+ \[\d+ ([^\]]+)\]/.exec(line);
        if (m) onSource(m[1]!);
      }
    }
  });
  await Promise.race([
    ok,
    new Promise<never>((_, reject) => socket.once('close', () => reject(new Error(`MONITOR on ${url.host}: the connection closed before it answered`)))),
  ]);
  return { close: () => socket.destroy() };
}

export async function countRedisCommands<T>(redisUrl: string, pid: number, work: () => Promise<T>): Promise<{ commands: number; result: T }> {
  const redisPort = Number(new URL(redisUrl).port || 6379);
  const bySource = new Map<string, number>();
  const watch = await monitor(redisUrl, (source) => bySource.set(source, (bySource.get(source) ?? 0) + 1));
  try {
    // The process's connections before and after: a pool may open one during the work.
    const ports = new Set(clientPorts(pid, redisPort));
    const result = await work();
    await sleep(TRAILING_MS);
    for (const p of clientPorts(pid, redisPort)) ports.add(p);
    let commands = 0;
    for (const [source, n] of bySource) {
      if (source !== 'lua' && ports.has(Number(source.slice(source.lastIndexOf(':') + 1)))) commands += n;
    }
    return { commands, result };
  } finally {
    watch.close();
  }
}
