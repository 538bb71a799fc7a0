/**
 * The gateway or the simulator run as `npm start` runs them: dist main.js in
 * a child process (stdout not a terminal), its output collected line by line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { until } from './harness.js';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;
export const GATEWAY_MAIN = new URL('../../apps/gateway/src/main.js', import.meta.url).pathname;
export const SIMULATOR_MAIN = new URL('../../apps/simulator/src/main.js', import.meta.url).pathname;

export interface MainProcess {
  readonly child: ChildProcess;
  /** stdout and stderr, one entry per line. */
  readonly lines: string[];
  /** SIGTERM, and the exit. */
  stop(): Promise<void>;
}

export function runMain(main: string, env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, [main], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  return {
    child,
    lines,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits for the gateway's "gateway on http://..." line (JSON logs) and returns that base URL. */
export async function gatewayBaseUrl(gw: MainProcess, timeoutMs = 30_000): Promise<string> {
  let base: string | undefined;
  await until(
    () => {
      for (const line of gw.lines) {
        const m = /"msg":"gateway on (http:\/\/[^ ]+)/.exec(line);
        if (m) base = m[1];
      }
      if (gw.child.exitCode !== null) throw new Error(`the gateway exited:\n${gw.lines.join('\n')}`);
      return base !== undefined;
    },
    'the gateway listening',
    timeoutMs,
  );
  return base!;
}
