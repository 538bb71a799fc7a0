#!/usr/bin/env node
// `npm run chaos`: build what the reliability suite runs if the sources are
// newer than dist/ (or dist/ is missing), then run it. See chaos/README.md.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildIfStale } from '../scripts/build-if-stale.mjs';

const root = new URL('..', import.meta.url).pathname;
const ENTRY = 'dist/chaos/src/main.js';

buildIfStale('chaos', [ENTRY, 'dist/apps/gateway/src/main.js', 'dist/apps/simulator/src/main.js', 'libs/llm-router/dist/index.js'], ['libs', 'apps', 'bench', 'chaos']);
const run = spawnSync(process.execPath, [join(root, ENTRY)], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
