import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { RUN_DIR } from './config.js';

/** Every child this benchmark started, so that each one is stopped, by its own pid, on the way out. */
const children = new Set<ChildProcess>();

export interface Service {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last lines the process printed, for error messages. */
  log(): string;
  /** The file its output goes to. */
  readonly logPath: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  name: string;
  port: number;
  /** node arguments (flags and script); with `command`, that program's arguments. */
  args: string[];
  /** The program to run; default: this node. */
  command?: string;
  /** Where `<name>.log` goes; default: the benchmark's run folder. */
  logDir?: string;
  /** Readiness check for a service that does not speak HTTP; default: `readyPath` answers. */
  ready?: () => Promise<boolean>;
  env?: Record<string, string>;
  cwd?: string;
  /** A path answered once the service is ready (any HTTP status counts). */
  readyPath?: string;
  readyTimeoutMs?: number;
}

/** Starts `node ...args` (or `command ...args`) and waits until it answers HTTP on 127.0.0.1:port (or `ready`). */
export async function startService(o: StartOptions): Promise<Service> {
  // Output goes straight to a file: no pipe for this process to drain while it measures.
  const logPath = join(o.logDir ?? RUN_DIR, `${o.name}.log`);
  const fd = openSync(logPath, 'w');
  const child = spawn(o.command ?? process.execPath, o.args, {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  children.add(child);
  const tail = () => {
    try {
      return readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      return '';
    }
  };
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited (code ${code}, signal ${signal})`;
    children.delete(child);
  });
  const url = `http://127.0.0.1:${o.port}`;
  // The port must be this child's: on a busy machine another process may take it between freePort() and the bind.
  const ready = async () => (await (o.ready ?? (() => answers(url + (o.readyPath ?? '/'))))()) && listensOn(child.pid!, o.port);
  const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) throw new Error(`${o.name} ${exited} before it was ready; its output (${logPath}):\n${tail()}`);
    if (await ready()) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${o.name} did not answer on ${url} within ${o.readyTimeoutMs ?? 30_000} ms; its output (${logPath}):\n${tail()}`);
    }
    await sleep(100);
  }
  return { name: o.name, url, port: o.port, pid: child.pid!, child, log: tail, logPath };
}

/** A TCP socket of this machine's network namespace, from /proc/net/tcp{,6}. */
interface TcpSocket {
  readonly localPort: number;
  readonly remotePort: number;
  /** 0A: LISTEN, 01: ESTABLISHED. */
  readonly state: string;
  readonly inode: string;
}

/** The port of a /proc/net/tcp address (ADDR:PORT, hex). */
const hexPort = (address: string): number => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);

function tcpSockets(): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // local_address and rem_address are ADDR:PORT (hex); the inode is the tenth field.
      const f = line.trim().split(/\s+/);
      if (!f[1] || !f[2] || !f[3] || !f[9]) continue;
      out.push({ localPort: hexPort(f[1]), remotePort: hexPort(f[2]), state: f[3], inode: f[9] });
    }
  }
  return out;
}

/** The inodes of the sockets `pid` holds open (empty once it is gone). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) inodes.add(inode);
      } catch {
        /* closed meanwhile */
      }
    }
  } catch {
    /* gone */
  }
  return inodes;
}

/** Whether `pid` holds the TCP socket listening on `port` (/proc/net/tcp{,6} against its file descriptors). */
export function listensOn(pid: number, port: number): boolean {
  const listening = tcpSockets().filter((s) => s.localPort === port && s.state === '0A');
  if (listening.length === 0) return false;
  const mine = socketInodes(pid);
  return listening.some((s) => mine.has(s.inode));
}

/** The local ports of the TCP connections `pid` holds open to `remotePort` (its Redis or PostgreSQL clients, say). */
export function clientPorts(pid: number, remotePort: number): number[] {
  const mine = socketInodes(pid);
  return tcpSockets()
    .filter((s) => s.remotePort === remotePort && s.state === '01' && mine.has(s.inode))
    .map((s) => s.localPort);
}

/** Starts a service on a free port, again on another one if the port was taken before the service could bind it. */
export async function startOnFreePort(make: (port: number) => StartOptions, attempts = 3): Promise<Service> {
  for (let i = 1; ; i++) {
    try {
      return await startService(make(await freePort()));
    } catch (err) {
      if (i >= attempts || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/** Stops one service (SIGTERM, then SIGKILL after a grace period). */
export async function stopService(s: { child: ChildProcess }, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  const child = s.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every child still running: each by its own pid. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopService({ child: c })));
}

/**
 * On exit, SIGINT or SIGTERM, the children this process started are stopped (each by its pid); `what` names this
 * process in the log. On a signal, `afterStop` then runs (what the children used, such as a run's Redis keys and schemas).
 */
export function stopChildrenOnExit(log: (line: string) => void, what: string, afterStop?: () => Promise<unknown>): void {
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping the processes ${what} started`);
      void stopAll()
        .then(afterStop)
        .catch(() => undefined)
        .finally(() => process.exit(130));
    });
  }
}

/** Synchronous last resort on exit: kill each child we started, by pid. */
export function killAllSync(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const CLK_TCK = 100; // USER_HZ: 100 on every Linux ABI Node supports.

/** utime + stime of a process, in microseconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/**
 * Read and write calls a process has made, all its threads (/proc/<pid>/io
 * syscr + syscw: read, readv, write, writev and the like, on sockets and files;
 * not epoll_wait, recvmsg or sendmsg). A count, not a time: other work on the
 * machine moves it only as far as it changes how many calls share an
 * event-loop pass (whose writes a process may coalesce).
 */
export function ioCalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? NaN);
  return field('syscr') + field('syscw');
}

/** A `kB` field of /proc/<pid>/status, in bytes (NaN once the process is gone). */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return NaN;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Peak resident set size since the last reset, in bytes (VmHWM). */
export const peakRss = (pid: number): number => statusBytes(pid, 'VmHWM');

/** Resident set size now, in bytes (VmRSS). */
export const currentRss = (pid: number): number => statusBytes(pid, 'VmRSS');

/**
 * VmRSS at rest, MB: sampled every 500 ms until four samples in a row lie
 * within 1 MB (memory freed after the last load has been handed back), at
 * most `maxMs`.
 */
export async function settledRss(pid: number, maxMs = 15_000): Promise<number> {
  const recent: number[] = [];
  const end = Date.now() + maxMs;
  for (;;) {
    recent.push(currentRss(pid) / 2 ** 20);
    if (recent.length > 4) recent.shift();
    if ((recent.length === 4 && Math.max(...recent) - Math.min(...recent) < 1) || Date.now() > end) return recent[recent.length - 1]!;
    await sleep(500);
  }
}

/** Samples a process's VmRSS every `everyMs` until stopped; `stop()` gives the samples in MB. */
export function sampleRss(pid: number, everyMs = 250): { stop(): number[] } {
  const samples: number[] = [];
  const take = () => {
    const v = currentRss(pid);
    if (Number.isFinite(v)) samples.push(v / 2 ** 20);
  };
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Resets VmHWM to the current RSS (writing 5 to clear_refs); false where the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** One JSON HTTP call (admin endpoints of the simulator, sanity checks). */
export function httpJson(
  url: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json: () => any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers },
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.end(payload);
  });
}
