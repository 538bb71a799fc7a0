#!/usr/bin/env node
// Runs every compiled unit spec (*.spec.js beside the code) and end-to-end test
// (test/**/*.e2e.js) with Node's own test runner, then prints one summary line.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const filter = process.argv.slice(2);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (/\.(spec|e2e)\.js$/.test(name)) out.push(path);
  }
  return out;
}

const files = ['libs', 'apps', 'test']
  .map((d) => join(dist, d))
  .flatMap((d) => {
    try {
      return collect(d, []);
    } catch {
      return [];
    }
  })
  .filter((f) => filter.length === 0 || filter.some((p) => relative(root, f).includes(p)))
  .filter(hasSource)
  .sort();

/**
 * A compiled test whose source file is gone is not run: tsc's incremental
 * build leaves the output of a deleted or renamed spec in dist/, where it
 * would go on running (and counting) as a ghost of a test that no longer exists.
 */
function hasSource(file) {
  if (existsSync(join(root, relative(dist, file)).replace(/\.js$/, '.ts'))) return true;
  console.error(`not run: ${relative(root, file)} (its source is gone; a leftover of an earlier build)`);
  return false;
}

if (files.length === 0) {
  console.error('no test files found under dist/: did the build run?');
  process.exit(1);
}

// Files run on their own after all the others, with a longer timeout: the
// consumer test packs the library (its prepack rebuilds libs/llm-router/dist,
// which every other file imports) and installs a scratch app with npm.
const ALONE = [/consumer-package\.e2e\.js$/];
const alone = files.filter((f) => ALONE.some((re) => re.test(f)));
const together = files.filter((f) => !alone.includes(f));

let passed = 0;
let failed = 0;
let skipped = 0;

/** One node:test run over `files`, its counts added to the totals; resolves once its report is written. */
function runFiles(files, options) {
  return new Promise((resolve) => {
    const stream = run({ files, ...options });
    stream.on('test:pass', (e) => {
      if (e.details?.type === 'suite') return;
      if (e.skip || e.todo) skipped++;
      else passed++;
    });
    stream.on('test:fail', (e) => {
      if (e.details?.type === 'suite' && e.details?.error?.failureType !== 'testCodeFailure' && e.details?.error?.failureType !== 'hookFailed') return;
      failed++;
    });
    const report = stream.compose(spec);
    report.on('end', resolve);
    report.pipe(process.stdout);
  });
}

if (together.length > 0) await runFiles(together, { concurrency: 2, timeout: 120_000 });
if (alone.length > 0) await runFiles(alone, { concurrency: 1, timeout: 900_000 });

const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
// Let the reporter flush before the closing line.
setImmediate(() => {
  process.stdout.write(`\n${line}\n`);
  process.exitCode = failed > 0 ? 1 : 0;
});
