/**
 * `npm run bench -- memory`: where the gateway's memory goes under load.
 * A gateway (the embedded configuration, then the production one) under
 * autocannon at 32 connections on the single-target scenario: VmRSS and V8's
 * own accounting (heap spaces, external memory, from GET /metrics), then a
 * heap snapshot taken under that load (`--heapsnapshot-signal`), summarized by
 * constructor. Then the same load on fresh processes with a smaller young
 * generation (`--max-semi-space-size`), for what that buys and costs.
 * Writes bench/results/memory.md.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { benchConfig, RESULTS_DIR } from './config.js';
import { runBenchEntry } from './entry.js';
import { startGateway, startSimulator } from './fleet.js';
import { heapSummaryMarkdown, summarizeHeapSnapshot, type HeapSummary } from './heap-snapshot.js';
import { median, runAutocannon, type RequestSpec } from './load.js';
import { credentials, writePolicies } from './our-gateway.js';
import { cpuMicros, httpJson, sampleRss, sleep, stopService, type Service } from './processes.js';
import { machineLine, writeResults } from './results.js';
import { body } from './scenarios.js';

const log = (s: string) => process.stderr.write(`[memory] ${s}\n`);

/** Young-generation sizes tried (MB per semi-space); 0: no flag, V8's default. */
const SEMI_SPACES = [0, 8, 4, 2];

interface V8Memory {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  spaces: Record<string, { usedMB: number; sizeMB: number }>;
}

function metricLines(text: string, name: string): { labels: string; value: number }[] {
  const re = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm');
  return [...text.matchAll(re)].map((m) => ({ labels: m[1] ?? '', value: Number(m[2]) }));
}

/** V8's accounting as the gateway's default Prometheus metrics report it. */
async function v8Memory(gw: Service): Promise<V8Memory> {
  const text = (await httpJson(`${gw.url}/metrics`)).text;
  const one = (n: string) => (metricLines(text, `llm_gateway_${n}`)[0]?.value ?? NaN) / 2 ** 20;
  const spaces: V8Memory['spaces'] = {};
  for (const { labels, value } of metricLines(text, 'llm_gateway_nodejs_heap_space_size_used_bytes')) {
    const space = /space="([^"]+)"/.exec(labels)?.[1] ?? '?';
    spaces[space] = { usedMB: value / 2 ** 20, sizeMB: NaN };
  }
  for (const { labels, value } of metricLines(text, 'llm_gateway_nodejs_heap_space_size_total_bytes')) {
    const space = /space="([^"]+)"/.exec(labels)?.[1] ?? '?';
    spaces[space] = { usedMB: spaces[space]?.usedMB ?? NaN, sizeMB: value / 2 ** 20 };
  }
  return {
    rssMB: one('process_resident_memory_bytes'),
    heapUsedMB: one('nodejs_heap_size_used_bytes'),
    heapTotalMB: one('nodejs_heap_size_total_bytes'),
    externalMB: one('nodejs_external_memory_bytes'),
    spaces,
  };
}

/** VmRSS by mapping (/proc/<pid>/smaps): file-backed by file, anonymous memory as one line, [heap] (malloc's brk area) and stacks apart. */
function rssByMapping(pid: number): { mapping: string; rssMB: number }[] {
  const by = new Map<string, number>();
  let current = '[anonymous]';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1]!.trim();
      current = path === '' ? '[anonymous]' : path.startsWith('[') ? path.replace(/^\[stack:\d+\]$/, '[stack]') : basename(path);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) by.set(current, (by.get(current) ?? 0) + Number(rss[1]) / 1024);
  }
  return [...by.entries()].map(([mapping, rssMB]) => ({ mapping, rssMB })).filter((m) => m.rssMB >= 0.5).sort((a, b) => b.rssMB - a.rssMB);
}

const threads = (pid: number) => Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

const spec = (gw: Service, headers: Record<string, string>): RequestSpec => ({ url: `${gw.url}/v1/chat/completions`, headers: { ...headers, 'x-traffic-class': 'bench-single' }, body: body('auto', false) });

interface SnapshotResult {
  gateway: string;
  rssUnderLoadMB: number;
  mappings: { mapping: string; rssMB: number }[];
  threads: number;
  v8: V8Memory;
  heap: HeapSummary;
  snapshotFile: string;
}

/** Loads a gateway, reads its memory mid-load, and has it write a heap snapshot while the load goes on. */
async function snapshotUnderLoad(label: string, name: string, policy: string, shared: Record<string, string> | undefined, conns: number, seconds: number): Promise<SnapshotResult> {
  const dir = join(RESULTS_DIR, 'heap', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const gw = await startGateway(name, policy, shared, { NODE_OPTIONS: `--heapsnapshot-signal=SIGWINCH --diagnostic-dir=${dir}` });
  try {
    const s = spec(gw, await credentials(gw, log));
    await runAutocannon(s, conns, Math.max(1, seconds / 2));
    const rss = sampleRss(gw.pid);
    const load = runAutocannon(s, conns, seconds * 2);
    await sleep(seconds * 500);
    const v8 = await v8Memory(gw);
    const mappings = rssByMapping(gw.pid);
    const threadCount = threads(gw.pid);
    process.kill(gw.pid, 'SIGWINCH');
    await load;
    const samples = rss.stop();
    // The snapshot is written while the process is paused; wait for the file to stop growing.
    let file = '';
    for (let last = -1, i = 0; i < 600; i++) {
      await sleep(500);
      const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot'));
      if (!f) continue;
      const size = statSync(join(dir, f)).size;
      if (size === last && size > 0) {
        file = join(dir, f);
        break;
      }
      last = size;
    }
    if (!file) throw new Error(`${name}: no heap snapshot written in ${dir}`);
    log(`${label}: snapshot ${file} (${(statSync(file).size / 2 ** 20).toFixed(0)} MB), summarizing ...`);
    return { gateway: label, rssUnderLoadMB: median(samples), mappings, threads: threadCount, v8, heap: summarizeHeapSnapshot(file), snapshotFile: file };
  } finally {
    await stopService(gw);
  }
}

interface SemiSpaceRow {
  semiSpaceMB: number;
  rssMB: number;
  peakMB: number;
  cpuUsPerReq: number;
  rps: number;
}

async function semiSpaceRow(mb: number, policy: string, conns: number, seconds: number): Promise<SemiSpaceRow> {
  const gw = await startGateway(`semi-${mb}`, policy, undefined, mb > 0 ? { NODE_OPTIONS: `--max-semi-space-size=${mb}` } : {});
  try {
    const s = spec(gw, await credentials(gw, log));
    await runAutocannon(s, conns, Math.max(1, seconds / 2));
    const rss = sampleRss(gw.pid);
    const cpu = cpuMicros(gw.pid);
    const r = await runAutocannon(s, conns, seconds);
    const used = cpuMicros(gw.pid) - cpu;
    const samples = rss.stop();
    return { semiSpaceMB: mb, rssMB: median(samples), peakMB: Math.max(...samples), cpuUsPerReq: used / Math.max(1, r.requests), rps: r.rps };
  } finally {
    await stopService(gw);
  }
}

const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '–');

function v8Markdown(r: SnapshotResult): string {
  const rows = Object.entries(r.v8.spaces).sort((a, b) => b[1].sizeMB - a[1].sizeMB);
  return [
    `VmRSS under load (median of samples): ${f(r.rssUnderLoadMB, 0)} MB. From the process itself, mid-load: RSS ${f(r.v8.rssMB, 0)} MB, V8 heap ${f(r.v8.heapUsedMB, 1)} MB used of ${f(r.v8.heapTotalMB, 1)} MB reserved, external (Buffers, native) ${f(r.v8.externalMB, 1)} MB; the rest of RSS is code, stacks, native allocations (SQLite, OpenSSL, the tokenizer thread when it runs) and allocator slack.`,
    '',
    '| V8 heap space | used MB | size MB |',
    '|---|---:|---:|',
    ...rows.map(([space, v]) => `| ${space} | ${f(v.usedMB, 1)} | ${f(v.sizeMB, 1)} |`),
    '',
    `VmRSS by mapping (/proc/<pid>/smaps, mid-load; ${r.threads} threads: the event loop, libuv's pool, V8's platform workers, the SQLite record thread where SQLite is the store). *[anonymous]* holds the V8 heaps of every isolate (the worker threads' too), malloc arenas and thread stacks:`,
    '',
    '| mapping | RSS MB |',
    '|---|---:|',
    ...r.mappings.slice(0, 12).map((m) => `| ${m.mapping} | ${f(m.rssMB, 1)} |`),
  ].join('\n');
}

runBenchEntry(log, async ({ host, startProduction }) => {
  const cfg = benchConfig();
  const conns = Math.max(...cfg.connections);
  const seconds = Math.max(2, cfg.duration);
  const production = cfg.production ? await startProduction() : undefined;
  const sim = await startSimulator();
  const { policy } = writePolicies(sim.url);
  const snapshots: SnapshotResult[] = [await snapshotUnderLoad('embedded configuration', 'heap-embedded', policy, undefined, conns, seconds)];
  if (production) snapshots.push(await snapshotUnderLoad('production configuration', 'heap-prod', policy, production.env('heap-prod'), conns, seconds));
  const semi: SemiSpaceRow[] = [];
  for (const mb of SEMI_SPACES) {
    const row = await semiSpaceRow(mb, policy, conns, seconds);
    log(`--max-semi-space-size=${mb || 'default'}: RSS ${row.rssMB.toFixed(0)} MB, ${row.cpuUsPerReq.toFixed(0)} µs/req`);
    semi.push(row);
  }
  await stopService(sim);

  const md = [
    '# Benchmark: where the gateway\'s memory goes',
    '',
    `${machineLine(host)} Single target, ${conns} connections. Reproduce: \`npm run bench -- memory\`. The snapshots stay in bench/results/heap/ (open them in Chrome DevTools, Memory tab).`,
    '',
    ...snapshots.flatMap((s) => [`## ${s.gateway}`, '', v8Markdown(s), '', '### Heap snapshot under load, by constructor', '', heapSummaryMarkdown(s.heap), '']),
    '## Young generation size',
    '',
    'Fresh embedded gateways, each with `--max-semi-space-size` (MB; *default*: no flag), the same load after a warm-up:',
    '',
    '| semi-space MB | RSS under load MB (median) | max MB | CPU µs/req | req/s |',
    '|---:|---:|---:|---:|---:|',
    ...semi.map((r) => `| ${r.semiSpaceMB || 'default'} | ${f(r.rssMB, 0)} | ${f(r.peakMB, 0)} | ${f(r.cpuUsPerReq, 0)} | ${f(r.rps, 0)} |`),
    '',
  ].join('\n');
  log(`written: ${writeResults('memory', md, { machine: host, config: cfg, snapshots, semiSpace: semi })}`);
});
