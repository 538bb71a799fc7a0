#!/usr/bin/env node
// `npm run bench`: build what the benchmark runs if the sources are newer than
// dist/ (or dist/ is missing), then run it. `npm run bench -- floors` runs the
// floors comparison instead. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildIfStale } from '../scripts/build-if-stale.mjs';

const root = new URL('..', import.meta.url).pathname;
const ENTRIES = {
  main: 'dist/bench/src/main.js',
  floors: 'dist/bench/src/floors.js',
  tokenizer: 'dist/bench/src/tokenizer-micro.js',
  streams: 'dist/bench/src/streams-main.js',
  soak: 'dist/bench/src/soak-main.js',
  memory: 'dist/bench/src/memory-main.js',
  sessions: 'dist/bench/src/session-micro.js',
  batch: 'dist/bench/src/batch.js',
  features: 'dist/bench/src/features-main.js',
  'fixed-rate': 'dist/bench/src/fixed-rate-main.js',
};
const which = process.argv[2] ?? 'main';
if (!(which in ENTRIES)) {
  console.error(`[bench] unknown benchmark "${which}": one of ${Object.keys(ENTRIES).join(', ')}`);
  process.exit(2);
}
const entry = join(root, ENTRIES[which]);

buildIfStale('bench', [ENTRIES[which], 'dist/apps/gateway/src/main.js', 'dist/apps/simulator/src/main.js', 'libs/llm-router/dist/index.js']);
// Thousands of open streams need as many file descriptors in the benchmark and in every process it starts:
// the soft limit is raised to the hard one (the shell's ulimit) before node starts; the children inherit it.
// The session bench measures heap per session: it needs the GC exposed.
const nodeArgs = which === 'sessions' ? ['--expose-gc', entry] : [entry];
const run = spawnSync('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...nodeArgs], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
