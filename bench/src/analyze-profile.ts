import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time, in %. */
  readonly pct: number;
}

/** A time window on the machine's monotonic clock (µs, as process.hrtime and V8's profiles count it). */
export interface Window {
  readonly name: string;
  readonly fromUs: number;
  readonly toUs: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** The window the summary covers; the whole profile when absent. */
  readonly window?: string;
  readonly totalMs: number;
  readonly busyMs: number;
  /** Filled in by the caller for a load window: requests served, and the process's CPU time from /proc. */
  readonly requests?: number;
  readonly cpuMs?: number;
  /** Self time by package or area. */
  readonly selfByArea: Share[];
  /** Share of busy samples with at least one frame of that area on the stack. */
  readonly inclusiveByArea: Share[];
  /** Self time by function. */
  readonly topSelf: Share[];
  /** Busy time by gateway layer, each sample counted once (see LAYERS). */
  readonly byLayer: Share[];
  /** Inclusive time of this project's own functions (gateway and library). */
  readonly topOwnInclusive: Share[];
}

/** Which package or part of the runtime a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: native, not JS)';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(root)') return '(root)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return parts[0] === 'internal' && parts.length > 2 ? `node:internal/${parts[1]}` : `node:${parts.slice(0, 2).join('/')}`;
  }
  if (url.includes('/libs/llm-router/dist/')) return 'llm-router library';
  if (url.includes('/dist/apps/gateway/')) return 'gateway app';
  if (url.includes('/dist/')) return 'this repository (other)';
  return url;
}

/**
 * Layers of the gateway, for "in or on behalf of" attribution: each sample goes
 * to the first layer found walking its stack from the leaf up, so node's own
 * HTTP code called by Fastify counts as Fastify, a JSON.parse called by the
 * transport counts as the transport, and so on. Node's HTTP code counts on its
 * own only when nothing above it is one of these layers (parsing an incoming
 * request or response before any handler runs).
 */
const LEAF_LAYERS: [string, (f: CallFrame) => boolean][] = [
  ['garbage collector', (f) => f.url === '' && f.functionName === '(garbage collector)'],
  ['socket writes (the writev binding)', (f) => f.url === '' && f.functionName === 'writev'],
];
const NODE_HTTP = 'node:http and sockets, before any handler';
const LAYERS: [string, (f: CallFrame) => boolean][] = [
  ['persistence, request log, metrics (gateway)', (f) => /\/dist\/apps\/gateway\/src\/(persistence|logging|metrics|store|usage)\/|\/node_modules\/(prom-client|better-sqlite3|pg)\//.test(f.url)],
  ['API-key auth (gateway)', (f) => f.url.includes('/dist/apps/gateway/src/auth/')],
  ['chat-completions controller: validation, SSE writer, headers (gateway)', (f) => /\/dist\/apps\/gateway\/src\//.test(f.url)],
  // undici's own frames too: its socket reads and response parsing run under no library frame, and would count as node:http.
  ['upstream HTTP transport (library and undici)', (f) => f.url.includes('/libs/llm-router/dist/providers/http/') || f.url.includes('/node_modules/undici/')],
  ['rxjs', (f) => f.url.includes('/node_modules/rxjs/')],
  ['routing library: planning, executor, adapters, budget, records', (f) => f.url.includes('/libs/llm-router/dist/')],
  ['zod', (f) => f.url.includes('/node_modules/zod/')],
  ['NestJS', (f) => f.url.includes('/node_modules/@nestjs/')],
  ['Fastify', (f) => /\/node_modules\/(fastify|@fastify\/[^/]+|find-my-way|avvio|secure-json-parse|light-my-request|fast-json-stringify|fast-querystring)\//.test(f.url)],
];
const isNodeHttp = (f: CallFrame) => /^node:(_http_|net|internal\/streams|internal\/stream_base|stream)/.test(f.url);

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/').replace(/^file:\/\//, '');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

function isOwn(frame: CallFrame): boolean {
  return frame.url.includes('/libs/llm-router/dist/') || frame.url.includes('/dist/apps/');
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

export function analyzeProfile(file: string, p: CpuProfile = readProfile(file), window?: Window, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const selfArea = new Map<string, number>();
  const inclArea = new Map<string, number>();
  const inclOwn = new Map<string, number>();
  const layers = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to it.
    t += p.timeDeltas[i] ?? 0;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    if (dt <= 0) continue;
    if (window && (t < window.fromUs || t >= window.toUs)) continue;
    const node = byId.get(p.samples[i]!)!;
    total += dt;
    const area = areaOf(node.callFrame);
    if (area === '(idle)') {
      idle += dt;
      continue;
    }
    add(self, label(node.callFrame), dt);
    add(selfArea, area, dt);
    const areas = new Set<string>();
    const own = new Set<string>();
    let layer = LEAF_LAYERS.find(([, test]) => test(node.callFrame))?.[0];
    let nodeHttp = false;
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      layer ??= LAYERS.find(([, test]) => test(f))?.[0];
      nodeHttp ||= isNodeHttp(f);
      const a = areaOf(f);
      if (a !== '(root)') areas.add(a);
      if (isOwn(f)) own.add(label(f));
    }
    add(layers, layer ?? (nodeHttp ? NODE_HTTP : 'other (node internals, native, program)'), dt);
    for (const a of areas) add(inclArea, a, dt);
    for (const o of own) add(inclOwn, o, dt);
  }
  const busy = total - idle;
  const shares = (m: Map<string, number>, n: number): Share[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms, pct: (100 * ms) / busy }));
  return {
    file,
    ...(window ? { window: window.name } : {}),
    totalMs: total,
    busyMs: busy,
    selfByArea: shares(selfArea, 20),
    inclusiveByArea: shares(inclArea, 20),
    topSelf: shares(self, top),
    byLayer: shares(layers, LAYERS.length + 4),
    topOwnInclusive: shares(inclOwn, 20),
  };
}

const shareTable = (title: string, rows: Share[]) =>
  [`| ${title} | ms | % of busy |`, '|---|---:|---:|', ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms.toFixed(0)} | ${r.pct.toFixed(1)} |`)].join('\n');

/** One line per window: the areas and functions that take the most self time. */
export function windowsMarkdown(summaries: readonly ProfileSummary[]): string {
  const out = [
    '| load | requests | CPU s (/proc) | profile busy s | CPU µs/req (profiled) | top areas, self time | top functions, self time |',
    '|---|---:|---:|---:|---:|---|---|',
  ];
  for (const s of summaries) {
    const areas = s.selfByArea.slice(0, 6).map((a) => `${a.name} ${a.pct.toFixed(0)}%`).join(', ');
    const fns = s.topSelf.slice(0, 5).map((f) => `\`${f.name.replace(/\|/g, '\\|')}\` ${f.pct.toFixed(1)}%`).join(', ');
    const cpu = s.cpuMs !== undefined ? (s.cpuMs / 1000).toFixed(1) : '–';
    const perReq = s.cpuMs !== undefined && s.requests ? ((1000 * s.cpuMs) / s.requests).toFixed(0) : '–';
    out.push(`| ${s.window ?? 'all'} | ${s.requests ?? '–'} | ${cpu} | ${(s.busyMs / 1000).toFixed(1)} | ${perReq} | ${areas} | ${fns} |`);
  }
  return out.join('\n');
}

/** Layers (rows) by load (columns): % of the busy time, and main-thread µs per request where the load's request count is known. */
export function layersMarkdown(summaries: readonly ProfileSummary[]): string {
  const names = [...new Set(summaries.flatMap((s) => s.byLayer.map((l) => l.name)))];
  const total = (name: string) => summaries.reduce((t, s) => t + (s.byLayer.find((l) => l.name === name)?.ms ?? 0), 0);
  names.sort((a, b) => total(b) - total(a));
  const head = `| layer | ${summaries.map((s) => s.window ?? 'all').join(' | ')} |`;
  const sep = `|---|${summaries.map(() => '---:').join('|')}|`;
  const rows = names.map((n) => {
    const cells = summaries.map((s) => {
      const l = s.byLayer.find((x) => x.name === n);
      if (!l) return '–';
      const us = s.requests ? ` (${((1000 * l.ms) / s.requests).toFixed(0)} µs)` : '';
      return `${l.pct.toFixed(1)} %${us}`;
    });
    return `| ${n} | ${cells.join(' | ')} |`;
  });
  return [head, sep, ...rows].join('\n');
}

export function profileMarkdown(s: ProfileSummary): string {
  const table = shareTable;
  return [
    '**By layer** (each sample counted once, for the first layer found from the leaf of its stack up: "in or on behalf of"):',
    '',
    table('layer', s.byLayer),
    '',
    `Profile \`${s.file.replace(/^.*\/bench\//, 'bench/')}\`${s.window ? ` (${s.window})` : ''}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy (not idle).`,
    '',
    '**Self time by area** (package, runtime part, or this repository):',
    '',
    table('area', s.selfByArea.slice(0, 15)),
    '',
    '**Busy time with the area on the stack** (inclusive; areas nest, so shares add up to more than 100 %):',
    '',
    table('area', s.inclusiveByArea.slice(0, 15)),
    '',
    '**Top functions by self time:**',
    '',
    table('function', s.topSelf.slice(0, 20)),
    '',
    "**This project's own functions, inclusive time:**",
    '',
    table('function', s.topOwnInclusive.slice(0, 15)),
  ].join('\n');
}

// CLI: node dist/bench/src/analyze-profile.js file.cpuprofile
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  for (const f of process.argv.slice(2)) console.log(profileMarkdown(analyzeProfile(f)) + '\n');
}
