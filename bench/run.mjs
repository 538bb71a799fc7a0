#!/usr/bin/env node
// `npm run bench`: build what the benchmark runs if the sources are newer than
// dist/ (or dist/ is missing), then run it. `npm run bench -- floors` runs the
// floors comparison instead. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const ENTRIES = { main: 'dist/bench/src/main.js', floors: 'dist/bench/src/floors.js' };
const which = process.argv[2] ?? 'main';
if (!(which in ENTRIES)) {
  console.error(`[bench] unknown benchmark "${which}": one of ${Object.keys(ENTRIES).join(', ')}`);
  process.exit(2);
}
const entry = join(root, ENTRIES[which]);

/** Why a build is needed: some .ts under libs/, apps/ or bench/ has no .js in dist/ or is newer than it. */
function stale() {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      if (d.name === 'node_modules' || d.name.startsWith('.')) return [];
      const p = join(dir, d.name);
      return d.isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
  for (const src of ['libs', 'apps', 'bench'].flatMap((d) => walk(join(root, d)))) {
    const out = join(root, 'dist', relative(root, src)).replace(/\.ts$/, '.js');
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) return `${relative(root, src)} has no up-to-date output in dist/`;
  }
  return undefined;
}

const reason = existsSync(entry) ? stale() : `${ENTRIES[which]} is missing`;
if (reason) {
  console.error(`[bench] building (${reason}) ...`);
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) {
    // tsc still emits on type errors; go on if everything the benchmark runs is there.
    const needed = ['dist/bench/src/main.js', 'dist/apps/gateway/src/main.js', 'dist/apps/simulator/src/main.js'];
    if (needed.some((f) => !existsSync(join(root, f)))) process.exit(tsc.status ?? 1);
    console.error('[bench] warning: the build reported errors; running what it emitted');
  }
}
const run = spawnSync(process.execPath, [entry], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
