/** The real gateway as a child process (`dist/apps/gateway/src/main.js`), for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../bench/src/processes.js';

const MAIN = join(process.cwd(), 'dist/apps/gateway/src/main.js');

export interface Gateway {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<void>;
}

export async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (b: Buffer) => (text = (text + b.toString()).slice(-20_000)));
  child.stderr!.on('data', (b: Buffer) => (text = (text + b.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (gone) throw new Error(`the gateway exited before it was ready:\n${text}`);
    try {
      if ((await fetch(`${url}/health/live`)).status < 500) break;
    } catch {
      /* not listening yet */
    }
    if (i > 600) {
      child.kill('SIGKILL');
      throw new Error(`the gateway did not answer within 60 s:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output: () => text, exited };
}

export async function stopGateway(gw: Gateway | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!gw || gw.child.exitCode !== null || gw.child.signalCode !== null) return;
  gw.child.kill(signal);
  await gw.exited;
}

