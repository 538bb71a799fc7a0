#!/usr/bin/env node
// The console's browser files: its TypeScript, compiled by the project's tsc
// (apps/gateway/console/tsconfig.json), and its stylesheet, copied beside the
// compiled modules, into dist/apps/gateway/console/ where the gateway serves
// them from (apps/gateway/src/console/console-assets.ts). Nothing downloaded.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const SOURCE = join(root, 'apps/gateway/console');
const OUT = join(root, 'dist/apps/gateway/console');

/** Returns tsc's exit status (0: built). */
export function buildConsole() {
  const status = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(SOURCE, 'tsconfig.json')], { cwd: root, stdio: 'inherit' }).status;
  mkdirSync(OUT, { recursive: true });
  for (const name of readdirSync(SOURCE)) if (name.endsWith('.css')) copyFileSync(join(SOURCE, name), join(OUT, name));
  return status ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(buildConsole());
