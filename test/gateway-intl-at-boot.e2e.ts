/**
 * The gateway's start and a request build no Intl object: the first one a
 * process builds has ICU page in its locale data (~5 MB of the node binary's
 * ICU data, resident for the process's life). Nest's loggers build two date
 * formats as @nestjs/common loads; main.ts defers them to their first use,
 * which the gateway's JSON log never makes (logging/deferred-date-time-format.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../bench/src/processes.js';
import { tempDir, until } from './gateway-support/harness.js';
import { gatewayBaseUrl, GATEWAY_MAIN, runMain } from './gateway-support/main-process.js';

/** Loaded before the gateway (--import): notes each Intl object built, with where, in `built.txt` beside it. */
const INTL_WATCH = `
import { appendFileSync } from 'node:fs';
const out = new URL('./built.txt', import.meta.url);
for (const name of ['DateTimeFormat', 'NumberFormat', 'Collator', 'PluralRules', 'RelativeTimeFormat', 'ListFormat', 'Segmenter', 'DisplayNames']) {
  Intl[name] = new Proxy(Intl[name], {
    construct(target, args, newTarget) {
      appendFileSync(out, name + ' ' + new Error().stack.split('\\n').slice(2, 5).join(' | ') + '\\n');
      return Reflect.construct(target, args, newTarget);
    },
  });
}
`;

test('the gateway (JSON logs) starts and answers without building an Intl object', async () => {
  const dir = tempDir();
  const watch = join(dir.path, 'intl-watch.mjs');
  writeFileSync(watch, INTL_WATCH);
  writeFileSync(join(dir.path, 'built.txt'), '');
  // The quick start's policy calls the embedded simulator on SIM_PORT: a free port, so the request is served.
  const gw = runMain(GATEWAY_MAIN, { PORT: '0', SIM_PORT: String(await freePort()), LLM_SQLITE_PATH: join(dir.path, 'g.sqlite'), NODE_OPTIONS: `--import=${watch}` });
  try {
    const base = await gatewayBaseUrl(gw);
    await until(() => gw.lines.some((l) => l.includes('DEV ONLY')), 'the dev admin key line');
    const adminKey = /export ADMIN_KEY=(\S+?)\\n/.exec(gw.lines.find((l) => l.includes('DEV ONLY'))!)![1]!;
    const created = await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: '{"tenant":"acme"}' });
    const { key } = (await created.json()) as { key: string };
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"messages":[{"role":"user","content":"hi"}]}',
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(readFileSync(join(dir.path, 'built.txt'), 'utf8'), '', 'Intl objects built');
  } finally {
    await gw.stop();
    dir.remove();
  }
});
