#!/usr/bin/env node
// `npm start` (gateway) and `npm run start:simulator`: build only when the
// sources changed, then run the compiled app in this very process, so that the
// SIGTERM npm forwards reaches the app itself (no orphaned child).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale } from './build-if-stale.mjs';

const APPS = { gateway: 'dist/apps/gateway/src/main.js', simulator: 'dist/apps/simulator/src/main.js' };
const app = process.argv[2] ?? 'gateway';
if (!(app in APPS)) {
  console.error(`[start] unknown app "${app}": one of ${Object.keys(APPS).join(', ')}`);
  process.exit(2);
}
buildIfStale('start', [APPS[app], 'libs/llm-router/dist/index.js'], ['libs', 'apps']);
await import(pathToFileURL(join(new URL('..', import.meta.url).pathname, APPS[app])).href);
