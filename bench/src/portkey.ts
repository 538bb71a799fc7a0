import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, HONO_NODE_SERVER_VERSION, PORTKEY_DIR, PORTKEY_SOURCE_DIR, PORTKEY_VERSION } from './config.js';
import { startService, type Service, type StartOptions } from './processes.js';

function installedVersion(pkg: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(PORTKEY_DIR, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return readFileSync(a, 'utf8') === readFileSync(b, 'utf8');
  } catch {
    return false;
  }
}

/**
 * Installs @portkey-ai/gateway (pinned, with @hono/node-server pinned through
 * npm overrides: its streaming needs 1.14.1) into bench/.portkey/ with `npm ci`
 * from bench/portkey/'s package.json and lockfile; only when it is not there yet.
 * Install scripts are skipped: the gateway's only one is patch-package, with no patches published.
 */
export function ensurePortkey(log: (s: string) => void): string {
  const entry = join(PORTKEY_DIR, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  const upToDate =
    existsSync(entry) &&
    installedVersion('@portkey-ai/gateway') === PORTKEY_VERSION &&
    installedVersion('@hono/node-server') === HONO_NODE_SERVER_VERSION &&
    sameFile(join(PORTKEY_SOURCE_DIR, 'package-lock.json'), join(PORTKEY_DIR, 'package-lock.json'));
  if (upToDate) return entry;
  log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into bench/.portkey/ (npm ci) ...`);
  mkdirSync(PORTKEY_DIR, { recursive: true });
  copyFileSync(join(PORTKEY_SOURCE_DIR, 'package.json'), join(PORTKEY_DIR, 'package.json'));
  copyFileSync(join(PORTKEY_SOURCE_DIR, 'package-lock.json'), join(PORTKEY_DIR, 'package-lock.json'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: PORTKEY_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm ci in bench/.portkey/ failed (exit ${r.status})`);
  const got = installedVersion('@portkey-ai/gateway');
  const hono = installedVersion('@hono/node-server');
  if (got !== PORTKEY_VERSION || hono !== HONO_NODE_SERVER_VERSION) {
    throw new Error(`bench/.portkey/ has @portkey-ai/gateway ${got} and @hono/node-server ${hono}; expected ${PORTKEY_VERSION} and ${HONO_NODE_SERVER_VERSION}`);
  }
  return entry;
}

/**
 * Starts the Portkey gateway as its package's `start:node` script does
 * (node build/start-server.js), headless and with NODE_ENV=production (no
 * console UI or log stream), bound to 127.0.0.1 by the loopback-only preload.
 */
export function startPortkey(entry: string, port: number): Promise<Service> {
  return startService(portkeyStart(entry, port));
}

/** How startPortkey starts it, for a caller that picks the port itself. */
export function portkeyStart(entry: string, port: number): StartOptions {
  return {
    name: 'portkey',
    port,
    cwd: PORTKEY_DIR,
    args: ['--import', DIST.loopback, entry, `--port=${port}`, '--headless'],
    env: { NODE_ENV: 'production' },
    readyPath: '/',
    readyTimeoutMs: 30_000,
  };
}

export interface PortkeyTarget {
  model: string;
}

/** The `x-portkey-config` header: one OpenAI-compatible target at the simulator, or a fallback chain on 503. */
export function portkeyConfig(simOpenAiBase: string, targets: readonly PortkeyTarget[]): string {
  const target = (t: PortkeyTarget) => ({ provider: 'openai', api_key: 'sk-bench', custom_host: simOpenAiBase, override_params: { model: t.model } });
  if (targets.length === 1) return JSON.stringify(target(targets[0]!));
  // Without on_status_codes Portkey falls back on any non-2xx, 400 included: name the status.
  return JSON.stringify({ strategy: { mode: 'fallback', on_status_codes: [503] }, targets: targets.map(target) });
}
