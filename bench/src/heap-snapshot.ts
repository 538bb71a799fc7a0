/**
 * Summarizes a V8 heap snapshot (.heapsnapshot) the way DevTools' summary
 * view does: objects grouped by constructor with their count, shallow size and
 * retained size (what would be freed with them), and the single objects that
 * retain the most. Retained sizes come from the dominator tree (Cooper,
 * Harvey and Kennedy's iterative algorithm), weak edges left out.
 */
import { readFileSync } from 'node:fs';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface ConstructorGroup {
  readonly name: string;
  readonly count: number;
  readonly selfBytes: number;
  /** Retained by the group's objects, each counted once (an object dominated by another of the same group is not added again). */
  readonly retainedBytes: number;
}

export interface Retainer {
  readonly name: string;
  readonly retainedBytes: number;
  readonly selfBytes: number;
}

export interface HeapSummary {
  readonly nodes: number;
  readonly totalBytes: number;
  readonly groups: ConstructorGroup[];
  readonly retainers: Retainer[];
}

/** The group a node belongs to: its constructor for objects, a bracketed kind for V8's own. */
function groupName(type: string, name: string): string {
  switch (type) {
    case 'object':
    case 'native':
      return name;
    case 'closure':
      return '(closure)';
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'code':
      return '(compiled code)';
    case 'array':
      return '(array)';
    case 'number':
    case 'bigint':
      return '(number)';
    case 'regexp':
      return 'RegExp';
    default:
      return `(${type})`;
  }
}

export function summarizeHeapSnapshot(file: string, top = 25): HeapSummary {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const meta = raw.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nType = meta.node_fields.indexOf('type');
  const nName = meta.node_fields.indexOf('name');
  const nSelf = meta.node_fields.indexOf('self_size');
  const nEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eTo = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const weak = meta.edge_types[0].indexOf('weak');
  const { nodes, edges, strings } = raw;
  const n = nodes.length / nf;

  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firstEdge[i + 1] = firstEdge[i]! + nodes[i * nf + nEdges]! * ef;
  const self = (i: number) => nodes[i * nf + nSelf]!;

  // Post-order over strong edges from the root (node 0).
  const post = new Int32Array(n).fill(-1);
  const order: number[] = [];
  const stack = [0];
  const cursor = new Uint32Array(n);
  const seen = new Uint8Array(n);
  seen[0] = 1;
  for (let i = 0; i < n; i++) cursor[i] = firstEdge[i]!;
  while (stack.length) {
    const v = stack[stack.length - 1]!;
    if (cursor[v]! < firstEdge[v + 1]!) {
      const e = cursor[v]!;
      cursor[v] = e + ef;
      if (edges[e + eType] === weak) continue;
      const w = edges[e + eTo]! / nf;
      if (!seen[w]) {
        seen[w] = 1;
        stack.push(w);
      }
    } else {
      stack.pop();
      post[v] = order.length;
      order.push(v);
    }
  }

  // Predecessors over strong edges between reachable nodes (CSR).
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (!seen[v]) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (edges[e + eType] !== weak) predCount[edges[e + eTo]! / nf + 1]!++;
  }
  for (let i = 0; i < n; i++) predCount[i + 1]! += predCount[i]!;
  const preds = new Uint32Array(predCount[n]!);
  const fill = predCount.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (!seen[v]) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (edges[e + eType] !== weak) preds[fill[edges[e + eTo]! / nf]!++] = v;
  }

  // Immediate dominators, by post-order number.
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (post[a]! < post[b]!) a = idom[a]!;
      while (post[b]! < post[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = order.length - 2; k >= 0; k--) {
      const v = order[k]!;
      let d = -1;
      for (let p = predCount[v]!; p < predCount[v + 1]!; p++) {
        const u = preds[p]!;
        if (idom[u] === -1) continue;
        d = d === -1 ? u : intersect(u, d);
      }
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }

  // Retained sizes: children come before their dominator in post-order.
  const retained = new Float64Array(n);
  for (const v of order) retained[v]! += self(v);
  for (const v of order) if (v !== 0 && idom[v]! >= 0) retained[idom[v]!]! += retained[v]!;

  const group = new Array<string>(n);
  for (let i = 0; i < n; i++) group[i] = groupName(nodeTypes[nodes[i * nf + nType]!] ?? '?', strings[nodes[i * nf + nName]!] ?? '');

  // Walk the dominator tree from the root, counting the groups on the path: a group's retained size adds an object only when no dominator of it is of the same group.
  const childStart = new Uint32Array(n + 1);
  for (const v of order) if (v !== 0) childStart[idom[v]! + 1]!++;
  for (let i = 0; i < n; i++) childStart[i + 1]! += childStart[i]!;
  const children = new Uint32Array(childStart[n]!);
  const cfill = childStart.slice(0, n);
  for (const v of order) if (v !== 0) children[cfill[idom[v]!]!++] = v;
  const onPath = new Map<string, number>();
  const groups = new Map<string, { count: number; selfBytes: number; retainedBytes: number }>();
  const walk: { v: number; next: number }[] = [{ v: 0, next: childStart[0]! }];
  onPath.set(group[0]!, 1);
  while (walk.length) {
    const top = walk[walk.length - 1]!;
    if (top.next < childStart[top.v + 1]!) {
      const c = children[top.next++]!;
      const g = group[c]!;
      const entry = groups.get(g) ?? { count: 0, selfBytes: 0, retainedBytes: 0 };
      entry.count++;
      entry.selfBytes += self(c);
      if (!onPath.get(g)) entry.retainedBytes += retained[c]!;
      groups.set(g, entry);
      onPath.set(g, (onPath.get(g) ?? 0) + 1);
      walk.push({ v: c, next: childStart[c]! });
    } else {
      walk.pop();
      const g = group[top.v]!;
      onPath.set(g, onPath.get(g)! - 1);
    }
  }

  const describe = (v: number) => `${group[v]}${nodeTypes[nodes[v * nf + nType]!] === 'closure' ? ` ${strings[nodes[v * nf + nName]!]}` : ''}`;
  // The property (or index) through which a dominator holds the object, when it holds it directly.
  const eName = meta.edge_fields.indexOf('name_or_index');
  const edgeTypes = meta.edge_types[0];
  const edgeName = (from: number, to: number) => {
    for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += ef) {
      if (edges[e + eTo]! / nf !== to) continue;
      const type = edgeTypes[edges[e + eType]!];
      const name = edges[e + eName]!;
      return type === 'element' || type === 'hidden' ? `[${name}]` : `.${strings[name]}`;
    }
    return '';
  };
  const retainers = order
    .filter((v) => v !== 0 && nodeTypes[nodes[v * nf + nType]!] !== 'synthetic')
    .sort((a, b) => retained[b]! - retained[a]!)
    .slice(0, top)
    .map((v) => ({ name: `${describe(v)} (held by ${describe(idom[v]!)}${edgeName(idom[v]!, v)})`, retainedBytes: retained[v]!, selfBytes: self(v) }));
  return {
    nodes: n,
    totalBytes: retained[0]!,
    groups: [...groups.entries()].map(([name, g]) => ({ name, ...g })).sort((a, b) => b.retainedBytes - a.retainedBytes).slice(0, top),
    retainers,
  };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(2);

export function heapSummaryMarkdown(s: HeapSummary): string {
  return [
    `${s.nodes.toLocaleString('en-US')} objects, ${mb(s.totalBytes)} MB reachable from the roots. A group's retained size counts each object once, but groups nest (a Map's retained size includes the strings it holds), so the shares add up to more than 100 %.`,
    '',
    '| constructor | objects | shallow MB | retained MB | share |',
    '|---|---:|---:|---:|---:|',
    ...s.groups.map((g) => `| ${g.name.replace(/\|/g, '\\|') || '(anonymous)'} | ${g.count.toLocaleString('en-US')} | ${mb(g.selfBytes)} | ${mb(g.retainedBytes)} | ${((100 * g.retainedBytes) / s.totalBytes).toFixed(1)} % |`),
    '',
    'The single objects that retain the most:',
    '',
    '| object | retained MB | shallow bytes |',
    '|---|---:|---:|',
    ...s.retainers.map((r) => `| ${r.name.replace(/\|/g, '\\|').slice(0, 120) || '(anonymous)'} | ${mb(r.retainedBytes)} | ${r.selfBytes.toLocaleString('en-US')} |`),
  ].join('\n');
}
