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

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly busyMs: number;
  /** Self time by package or area. */
  readonly selfByArea: Share[];
  /** Share of busy samples with at least one frame of that area on the stack. */
  readonly inclusiveByArea: Share[];
  /** Self time by function. */
  readonly topSelf: Share[];
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
    return '(native)';
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
  if (url.includes('/dist/libs/llm-router/')) return 'llm-router library';
  if (url.includes('/dist/apps/gateway/')) return 'gateway app';
  if (url.includes('/dist/')) return 'this repository (other)';
  return url;
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/').replace(/^file:\/\//, '');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

function isOwn(frame: CallFrame): boolean {
  return frame.url.includes('/dist/libs/') || frame.url.includes('/dist/apps/');
}

export function analyzeProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const selfArea = new Map<string, number>();
  const inclArea = new Map<string, number>();
  const inclOwn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to it.
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    if (dt <= 0) continue;
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
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const a = areaOf(f);
      if (a !== '(root)') areas.add(a);
      if (isOwn(f)) own.add(label(f));
    }
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
    totalMs: total,
    busyMs: busy,
    selfByArea: shares(selfArea, 20),
    inclusiveByArea: shares(inclArea, 20),
    topSelf: shares(self, top),
    topOwnInclusive: shares(inclOwn, 20),
  };
}

export function profileMarkdown(s: ProfileSummary): string {
  const table = (title: string, rows: Share[]) =>
    [`| ${title} | ms | % of busy |`, '|---|---:|---:|', ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms.toFixed(0)} | ${r.pct.toFixed(1)} |`)].join('\n');
  return [
    `Profile \`${s.file.replace(/^.*\/bench\//, 'bench/')}\`: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy (not idle).`,
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
