// Builds the repo (the library package, then the apps, tests and bench) when
// some source is newer than its compiled output or has none, so that `npm start`
// and `npm run bench` run the build output without recompiling on every start.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildConsole } from './build-console.mjs';

const root = new URL('..', import.meta.url).pathname;
const LIBRARY = 'libs/llm-router';

function sources(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (d.name === 'node_modules' || d.name === 'dist' || d.name.startsWith('.')) return [];
    const p = join(dir, d.name);
    return d.isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const newer = (src, out) => !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;

/** Why a build is needed, or undefined when every output is up to date. */
export function staleReason(dirs = ['libs', 'apps', 'bench']) {
  for (const src of sources(join(root, LIBRARY, 'src'))) {
    // Specs and their helpers are not part of the package build (tsconfig.build.json excludes them).
    if (src.endsWith('.spec.ts') || src.endsWith('.spec-helper.ts')) continue;
    const out = join(root, LIBRARY, 'dist', relative(join(root, LIBRARY, 'src'), src)).replace(/\.ts$/, '.js');
    if (newer(src, out)) return `${relative(root, src)} has no up-to-date output in ${LIBRARY}/dist/`;
  }
  for (const src of dirs.flatMap((d) => sources(join(root, d)))) {
    const out = join(root, 'dist', relative(root, src)).replace(/\.ts$/, '.js');
    if (newer(src, out)) return `${relative(root, src)} has no up-to-date output in dist/`;
  }
  return undefined;
}

function tsc(project) {
  return spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, project)], { cwd: root, stdio: 'inherit' }).status;
}

/**
 * Builds when stale. `needed`: the outputs the caller runs; a build with type
 * errors (tsc still emits) is accepted with a warning when they all exist.
 */
export function buildIfStale(label, needed, dirs) {
  const missing = needed.find((f) => !existsSync(join(root, f)));
  const reason = missing ? `${missing} is missing` : staleReason(dirs);
  if (!reason) return;
  console.error(`[${label}] building (${reason}) ...`);
  const status = tsc(`${LIBRARY}/tsconfig.build.json`) || tsc('tsconfig.build.json') || buildConsole();
  if (status === 0) return;
  if (needed.some((f) => !existsSync(join(root, f)))) process.exit(status ?? 1);
  console.error(`[${label}] warning: the build reported errors; running what it emitted`);
}
