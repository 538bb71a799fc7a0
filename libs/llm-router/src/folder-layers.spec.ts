import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

// The library's folders, lowest first: a folder may import only folders listed
// before it. The root files (module, entry point) sit above them all.
const LAYERS = [
  'shared',
  'queue',
  'chat',
  'errors',
  'policy',
  'decorators',
  'context',
  'providers',
  'planning',
  'budget',
  'telemetry',
  'execution',
  'deferral',
  'router',
  'health',
  'redis',
  'bullmq',
  'testing',
];

// Specs run from dist/libs/llm-router/src; the sources sit at the same path under the repo root.
const here = dirname(new URL(import.meta.url).pathname);
const src = resolve(here, '../../../../libs/llm-router/src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.spec.ts') ? [p] : [];
  });
}

const folderOf = (file: string): string => {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? parts[0]! : '.';
};

describe('library folder layers', () => {
  it('every folder imports only folders below it, and none imports the root files', () => {
    const files = sources(src);
    assert.ok(files.length > 50, `found the library sources at ${src}`);
    const violations: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      if (from === '.') continue;
      const fromLayer = LAYERS.indexOf(from);
      assert.notEqual(fromLayer, -1, `folder "${from}" has a place in LAYERS`);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const to = folderOf(resolve(dirname(file), spec!));
        if (to === from) continue;
        const toLayer = LAYERS.indexOf(to);
        if (to === '.' || toLayer > fromLayer) violations.push(`${relative(src, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
    assert.deepEqual(violations, []);
  });
});
