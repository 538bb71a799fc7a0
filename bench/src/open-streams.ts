/**
 * Thousands of slow streams held open at once through one target: each a
 * chunk every `chunkMs` from the simulator (a fault rule on the slow model),
 * opened at a steady rate, then all open together. Per target: resident
 * memory per open stream above the idle baseline (each read after a full
 * collection, so that garbage not yet collected counts on neither side), time
 * to first chunk at that load, chunks that came late, errors.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { RequestSpec } from './load.js';
import { percentile } from './load.js';
import type { Fleet } from './fleet.js';
import { collectedMemory, inspectorUrl, type CollectedMemory } from './inspector.js';
import { ADMIN_HEADERS, benchClass } from './our-gateway.js';
import { cpuMicros, httpJson, sampleRss, sleep, type Service } from './processes.js';
import type { TargetCheck } from './report.js';
import { SLOW_CLASS, slowStreamSpecs, TARGET_LABELS, type TargetId } from './scenarios.js';
import {
  failedCallRecords,
  failureLines,
  failuresCell,
  groupFailures,
  httpFailure,
  socketFailure,
  streamErrorEvent,
  type FailureGroup,
  type RecordGroup,
  type StreamFailure,
} from './stream-failures.js';

/** The simulator's model whose streams are slow (bench/policy.yaml: model bench-slow, class bench-slow-stream). */
export const SLOW_MODEL = 'sim-bench-slow';
/** A chunk is late when it comes this many times the chunk interval after the one before. */
const LATE_FACTOR = 1.5;

export interface StreamLoad {
  readonly count: number;
  readonly seconds: number;
  readonly chunkMs: number;
  /** Streams opened per second: a steady ramp (5,000 over 5 s), so that the later ones meet thousands already open and no listen backlog overflows. */
  readonly openPerS: number;
}

export interface StreamTarget {
  readonly id: TargetId;
  readonly label: string;
  /** The proxy process measured (/proc, and its inspector for a full collection). */
  readonly service: Service;
  readonly spec: RequestSpec;
}

export interface OpenStreamsResult {
  readonly target: string;
  readonly label: string;
  /** Held at once, in each of the two bursts. */
  readonly streams: number;
  /** Over both bursts (2 × streams in all). */
  readonly completed: number;
  readonly errors: number;
  /** Streams that failed in the primings and warm-up rounds, which are not measured (a target failing there is told all the same). */
  readonly warmupErrors: number;
  /** What the errors were: counted by kind (HTTP status and OpenAI error code, socket error and phase), the first few kinds. */
  readonly failures: FailureGroup[];
  /** An llm-router gateway's routing records of the failed calls, the primings' and warm-up rounds' too: each call's attempts and their codes, counted. */
  readonly failedRecords?: RecordGroup[];
  /** After a full collection, at rest between the two primings of the memory burst (holdStreams). */
  readonly idle: CollectedMemory;
  /** After a full collection while every stream of the memory burst was open (between the last one's request and the first one's end). */
  readonly open: CollectedMemory;
  /** Streams that had ended when `open` was read (0: none). */
  readonly endedAtRead: number;
  /** Streams that had not had their first chunk when `open` was read (0: every one was open). */
  readonly unstartedAtRead: number;
  /** VmRSS sampled every 100 ms during both bursts (not the primings or the warm-up rounds), the highest. */
  readonly peakRssMB: number;
  /** Resident memory per stream: open less idle RSS, over the streams. */
  readonly perStreamKB: number;
  /** The V8 heap in use and external memory per stream: what the process's objects hold, without the allocator's pages. */
  readonly perStreamHeapKB: number;
  /** Time to the first body bytes, in the timed burst (as are the first token, the CPU, the chunks and the seconds). */
  readonly ttfbP50: number;
  readonly ttfbP99: number;
  /** Time to the first event with content (the first token). */
  readonly ttftP50: number;
  readonly ttftP99: number;
  /** The proxy process's CPU (user + system, /proc) from the first request to the last stream's end, per stream. */
  readonly cpuPerStreamUs: number;
  readonly chunks: number;
  readonly chunksLate: number;
  readonly seconds: number;
  /** The memory burst's, right after V8's last-resort collection of the idle reading and one priming: beside the timed burst's. */
  readonly memoryBurst: { readonly ttfbP99: number; readonly ttftP99: number; readonly cpuPerStreamUs: number };
}

/** Sets the simulator's rule for the slow model: `chunks` content chunks, `chunkMs` apart. */
export async function slowStreamsRule(simUrl: string, load: StreamLoad): Promise<void> {
  const chunks = Math.max(1, Math.round((load.seconds * 1000) / load.chunkMs));
  const r = await httpJson(`${simUrl}/_sim/faults`, 'POST', { id: 'bench-slow-streams', match: { model: SLOW_MODEL, stream: true }, fault: { chunkDelayMs: load.chunkMs, chunks } });
  if (r.status >= 300) throw new Error(`setting the slow-stream rule: HTTP ${r.status} ${r.text.slice(0, 200)}`);
}

interface StreamOutcome {
  /** The first body bytes: the stream is open. */
  ttfb: number;
  /** The first event with content: what a user waits for. */
  ttft: number;
  firstAt: number;
  endAt: number;
  chunks: number;
  late: number;
  error?: StreamFailure;
}

/** A non-empty `content` string: an event the user sees (a role-only opening event carries `"content":""`). */
const CONTENT = /"content":"(?:[^"\\]|\\.)/;

/**
 * One stream, timed twice: its first byte, and its first event with content.
 * A gateway that can still fall back holds the opening role-only event until
 * content arrives (so a switch before it stays invisible), while a plain proxy
 * passes it on at once: the first byte compares their buffering, the first
 * token what the user waits for. Chunks and lateness count content events only,
 * the same number through every target.
 */
function oneStream(url: URL, headers: Record<string, string>, body: Buffer, chunkMs: number, onFirst: () => void): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const out: StreamOutcome = { ttfb: NaN, ttft: NaN, firstAt: NaN, endAt: NaN, chunks: 0, late: 0 };
    let lastContent = 0;
    let partial = '';
    let tail = '';
    let afterHead = false;
    let errorEvent: StreamFailure | undefined;
    const done = (error?: StreamFailure) => {
      if (!Number.isNaN(out.endAt)) return;
      out.endAt = performance.now();
      if (error) out.error = error;
      resolve(out);
    };
    // agent: false: one socket per stream, none shared or queued.
    const req = request({ agent: false, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      afterHead = true;
      if (res.statusCode !== 200) {
        // The error body (the OpenAI error: its code says which failure it was), kept short.
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 4096) text += c;
        });
        res.on('end', () => done(httpFailure(res.statusCode ?? 0, text, performance.now() - t0)));
        res.on('error', (err) => done(socketFailure(err, true, performance.now() - t0)));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        const now = performance.now();
        if (Number.isNaN(out.firstAt)) {
          out.firstAt = now;
          onFirst();
          out.ttfb = now - t0;
        }
        // SSE events, not reads: a proxy may coalesce several into one write, or cut one across two.
        const events = (partial + c).split('\n\n');
        partial = events.pop()!;
        let content = 0;
        for (const e of events) {
          if (CONTENT.test(e)) content++;
          else errorEvent ??= streamErrorEvent(e, now - t0);
        }
        if (content > 0) {
          if (Number.isNaN(out.ttft)) {
            out.ttft = now - t0;
            content--;
          } else if (now - lastContent > chunkMs * LATE_FACTOR) out.late += content;
          out.chunks += content;
          lastContent = now;
        }
        tail = (tail + c).slice(-64);
      });
      // A stream without a content event this test recognizes would otherwise count as complete with no first token.
      res.on('end', () => {
        const at = performance.now() - t0;
        const incomplete = (message: string): StreamFailure => ({ kind: 'stream', message, atMs: at });
        done(errorEvent ?? (!tail.includes('[DONE]') ? incomplete('ended without [DONE]') : Number.isNaN(out.ttft) ? incomplete('no content event') : undefined));
      });
      res.on('error', (err) => done(socketFailure(err, true, performance.now() - t0)));
    });
    req.on('error', (err) => done(socketFailure(err, afterHead, performance.now() - t0)));
    req.end(body);
  });
}

/** Opens `count` streams of `load`'s shape through `t` at its steady rate; gives each one's outcome, due at its end. */
async function openStreams(t: StreamTarget, load: StreamLoad, count: number, onFirst: () => void): Promise<Promise<StreamOutcome>[]> {
  const url = new URL(t.spec.url);
  const body = Buffer.from(t.spec.body);
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), ...t.spec.headers };
  const started = performance.now();
  const pending: Promise<StreamOutcome>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / load.openPerS;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(oneStream(url, headers, body, load.chunkMs, onFirst));
  }
  return pending;
}

/** How many streams prime a target: a fifth of the measured burst, at most 200. */
export function primingCount(load: StreamLoad): number {
  return Math.min(200, Math.ceil(load.count / 5));
}

/**
 * Streams of the same shape through `t` before it is measured, to their end. A process's first burst of a request shape
 * it has not served runs partly unoptimized code (28 deoptimizations counted in the gateway's first burst, none in its
 * second) and opens its upstream connections: the measured burst meets the process as a burst in service would.
 */
async function primeStreams(t: StreamTarget, load: StreamLoad, count = primingCount(load)): Promise<number> {
  return failed(await Promise.all(await openStreams(t, load, count, () => undefined)));
}

const failed = (outcomes: readonly StreamOutcome[]) => outcomes.filter((o) => o.error).length;

/**
 * After the memory burst, rounds of this many streams (the burst's count, at most 500), each stream `WARM_SECONDS`
 * long, `WARM_ROUNDS` of them, before the timed burst. The memory burst's open reading is V8's last-resort collection,
 * which throws away compiled code and its type feedback, and a function called once per stream is optimized only after
 * a thousand or two calls. Optimizations counted (--trace-opt) in 500-stream rounds after such a reading: ours 148, 66,
 * 72, 36, then 21 in the burst after them; bare proxy 85, 38, 40, 29, then 9; Portkey 262, 116, 86, 56, then 25 (a
 * burst after the reading and one priming of 100: ours 64-67, bare proxy 30-34, Portkey 129-139).
 */
function warmingCount(load: StreamLoad): number {
  return Math.min(500, load.count);
}
const WARM_ROUNDS = 4;
/** Short streams of the same shape: what they warm is each stream's opening, first chunk and end, not its length. */
const WARM_SECONDS = 1;

/** What one burst of `load.count` streams through a target gave, with what its reading while open read (if any). */
interface Burst<R> {
  readonly outcomes: StreamOutcome[];
  readonly reading: R;
  /** The process's CPU from the first request to the last stream's end, without the reading's (if any). */
  readonly cpuUs: number;
  readonly peakMB: number;
  readonly seconds: number;
}

/**
 * Opens `load.count` streams through `t` at a steady rate and holds them to their end. With `whileOpen`, it runs once
 * every stream has had its first chunk, halfway between the last request and the first stream's end at the earliest,
 * and never after a stream ended (a queued stream holds less than an open one); its CPU is left out of the burst's.
 */
async function burst<R = undefined>(t: StreamTarget, load: StreamLoad, whileOpen?: (ended: number, unstarted: number) => Promise<R>): Promise<Burst<R>> {
  const peak = sampleRss(t.service.pid, 100);
  const cpuBefore = cpuMicros(t.service.pid);
  const started = performance.now();
  let ended = 0;
  let firsts = 0;
  const pending = (await openStreams(t, load, load.count, () => firsts++)).map((p) => p.finally(() => ended++));
  let asideUs = 0;
  let reading: R | undefined;
  if (whileOpen) {
    const firstEnd = started + load.seconds * 1000;
    await sleep(Math.max(0, (firstEnd - performance.now()) / 2));
    while (firsts + ended < load.count && ended === 0) await sleep(50);
    const before = cpuMicros(t.service.pid);
    reading = await whileOpen(ended, load.count - firsts);
    asideUs = cpuMicros(t.service.pid) - before;
  }
  const outcomes = await Promise.all(pending);
  return { outcomes, reading: reading as R, cpuUs: cpuMicros(t.service.pid) - cpuBefore - asideUs, peakMB: Math.max(...peak.stop()), seconds: (performance.now() - started) / 1000 };
}

/** Sorted times of the outcomes that have one. */
const timesOf = (outcomes: readonly StreamOutcome[], pick: (o: StreamOutcome) => number) =>
  Float64Array.from(outcomes.map(pick).filter((ms) => !Number.isNaN(ms))).sort();

/**
 * Two bursts of `load.count` streams through `t`. The memory burst: a priming, a full collection at rest, the priming
 * again (the collection throws compiled code away), then the burst, read after a full collection while every stream is open.
 * Then `WARM_ROUNDS` rounds of short streams (the slow-stream rule shortened meanwhile), and the timed burst, with no
 * reading in it: first byte, first token, CPU and chunks are its, taken on the code of a process that has served a few
 * thousand streams rather than right after V8's last-resort collection; the memory burst's are kept beside them.
 * Errors count over both bursts.
 */
export async function holdStreams(simUrl: string, t: StreamTarget, load: StreamLoad): Promise<OpenStreamsResult> {
  const since = Date.now();
  let warmupErrors = await primeStreams(t, load);
  const idle = await collectedMemory(t.service);
  warmupErrors += await primeStreams(t, load);
  const memory = await burst(t, load, async (endedAtRead, unstartedAtRead) => ({ open: await collectedMemory(t.service), endedAtRead, unstartedAtRead }));
  const { open, endedAtRead, unstartedAtRead } = memory.reading;
  await slowStreamsRule(simUrl, { ...load, seconds: WARM_SECONDS });
  for (let i = 0; i < WARM_ROUNDS; i++) warmupErrors += await primeStreams(t, load, warmingCount(load));
  await slowStreamsRule(simUrl, load);
  const timed = await burst(t, load);
  const both = [...memory.outcomes, ...timed.outcomes];
  const ttfb = timesOf(timed.outcomes, (o) => o.ttfb);
  const ttft = timesOf(timed.outcomes, (o) => o.ttft);
  const errors = both.filter((o) => o.error);
  // An llm-router gateway keeps a routing record of each failed call: what its attempts met.
  const gateway = t.id === 'ours' || t.id === 'prod';
  const failedRecords = gateway && errors.length + warmupErrors > 0 ? await failedCallRecords(new URL(t.spec.url).origin, ADMIN_HEADERS, t.spec.headers['x-traffic-class']!, since).catch(() => undefined) : undefined;
  return {
    target: t.id,
    label: t.label,
    streams: load.count,
    completed: both.length - errors.length,
    errors: errors.length,
    warmupErrors,
    failures: groupFailures(errors.map((o) => o.error!)),
    ...(failedRecords ? { failedRecords } : {}),
    idle,
    open,
    endedAtRead,
    unstartedAtRead,
    peakRssMB: Math.max(memory.peakMB, timed.peakMB),
    perStreamKB: ((open.rssMB - idle.rssMB) * 1024) / load.count,
    perStreamHeapKB: ((open.heapUsedMB + open.externalMB - idle.heapUsedMB - idle.externalMB) * 1024) / load.count,
    ttfbP50: percentile(ttfb, 50),
    ttfbP99: percentile(ttfb, 99),
    ttftP50: percentile(ttft, 50),
    ttftP99: percentile(ttft, 99),
    cpuPerStreamUs: timed.cpuUs / load.count,
    chunks: timed.outcomes.reduce((n, o) => n + o.chunks, 0),
    chunksLate: timed.outcomes.reduce((n, o) => n + o.late, 0),
    seconds: timed.seconds,
    memoryBurst: {
      ttfbP99: percentile(timesOf(memory.outcomes, (o) => o.ttfb), 99),
      ttftP99: percentile(timesOf(memory.outcomes, (o) => o.ttft), 99),
      cpuPerStreamUs: memory.cpuUs / load.count,
    },
  };
}

/** The open-stream run's targets in a fleet: each gateway, the bare proxy, Portkey (or only those in `only`). */
export function streamTargets(fleet: Fleet, only?: readonly string[]): StreamTarget[] {
  return slowStreamSpecs(fleet.endpoints, SLOW_MODEL)
    .filter((t) => !only || only.includes(t.id))
    .map((t) => ({ id: t.id, label: TARGET_LABELS[t.id], service: fleet.services[t.service]!, spec: t.spec }));
}

/**
 * Every open stream holds a socket in this process, two in a gateway (client
 * and upstream) and one in the simulator; they all inherit this process's
 * limit (bench/run.mjs raises the soft limit to the hard one).
 */
export function checkFileLimit(streams: number): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(/^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1] ?? NaN);
  const need = 2 * streams + 256;
  if (Number.isFinite(soft) && soft < need) {
    throw new Error(`${streams} open streams need ${need} file descriptors per gateway process; the limit is ${soft} (ulimit -n): raise the hard limit or set BENCH_STREAMS lower`);
  }
}

/** The slow-stream rule, then each target in turn. */
export async function runOpenStreams(simUrl: string, targets: readonly StreamTarget[], load: StreamLoad, log: (s: string) => void): Promise<OpenStreamsResult[]> {
  await slowStreamsRule(simUrl, load);
  const results: OpenStreamsResult[] = [];
  for (const t of targets) {
    // The inspector's address is read from the last lines of the process's output: opened before the priming
    // streams' request-log lines can push it out.
    await inspectorUrl(t.service);
    const r = await holdStreams(simUrl, t, load);
    log(
      `  ${t.label.padEnd(32)} ${r.completed}/${2 * r.streams} completed (two bursts), ${r.errors} errors (${r.warmupErrors} in the warm-up), ${f(r.perStreamKB, 1)} KB/stream (RSS ${f(r.idle.rssMB, 0)} → ${f(r.open.rssMB, 0)} MB after full collections; heap ${f(r.perStreamHeapKB, 1)} KB/stream), ` +
        `first byte p50 ${f(r.ttfbP50, 1)} ms p99 ${f(r.ttfbP99, 1)} ms, first token p50 ${f(r.ttftP50, 1)} ms p99 ${f(r.ttftP99, 1)} ms, CPU ${f(r.cpuPerStreamUs, 0)} µs/stream, ${r.chunksLate} of ${r.chunks} chunks late; ` +
        `the memory burst's first token p99 ${f(r.memoryBurst.ttftP99, 1)} ms, CPU ${f(r.memoryBurst.cpuPerStreamUs, 0)} µs/stream`,
    );
    for (const line of failureLines('what failed', r.failures, r.failedRecords)) log(`  ${line}`);
    results.push(r);
  }
  return results;
}

const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/** The targets of the open-stream run, for the gateway (the first llm-router row) against the bare proxy. */
export function streamsChecks(results: readonly OpenStreamsResult[], gatewayIds: readonly string[]): TargetCheck[] {
  const bare = results.find((r) => r.target === 'bare');
  const checks: TargetCheck[] = [];
  for (const id of gatewayIds) {
    const g = results.find((r) => r.target === id);
    if (!g) continue;
    const n = `${g.streams.toLocaleString('en-US')} open streams, ${g.label}`;
    // Read after streams began to end, or before all had started, the figure undercounts them.
    const inconclusive =
      g.endedAtRead > 0 || g.unstartedAtRead > 0
        ? `: inconclusive, when it was read ${g.endedAtRead} streams had ended and ${g.unstartedAtRead} had not had their first chunk`
        : '';
    checks.push({
      goal: `${n}: ≤ 20 KB per stream above the idle baseline`,
      measured: `${f(g.perStreamKB, 1)} KB resident, ${f(g.perStreamHeapKB, 1)} KB of heap and buffers (bare proxy ${f(bare?.perStreamKB ?? NaN, 1)} / ${f(bare?.perStreamHeapKB ?? NaN, 1)} KB)${inconclusive}`,
      met: !inconclusive && g.perStreamKB <= 20,
      by: inconclusive ? undefined : `${f(g.perStreamKB - 20, 1)} KB`,
    });
    checks.push({
      goal: `${n}: no stream errors`,
      measured: `${g.errors} of ${2 * g.streams} (two bursts)${g.failures.length ? ` (${failuresCell(g.failures)})` : ''}${g.warmupErrors ? `, and ${g.warmupErrors} in the warm-up` : ''}`,
      met: g.errors + g.warmupErrors === 0,
      by: `${g.errors + g.warmupErrors} errors`,
    });
    if (bare) {
      const d = g.ttftP99 - bare.ttftP99;
      checks.push({
        goal: `${n}: time to first token p99 within 5 ms of the bare proxy's`,
        measured:
          `${d >= 0 ? '+' : ''}${f(d, 1)} ms (${f(g.ttftP99, 1)} vs ${f(bare.ttftP99, 1)} ms; first byte p99 ${f(g.ttfbP99, 1)} vs ${f(bare.ttfbP99, 1)} ms; ` +
          `in the memory burst, after the last-resort collection: ${f(g.memoryBurst.ttftP99, 1)} vs ${f(bare.memoryBurst.ttftP99, 1)} ms)`,
        met: d <= 5,
        by: `${f(d - 5, 1)} ms`,
      });
    }
  }
  return checks;
}

/** What the table's columns mean, for the results files. */
export function streamsNote(load: StreamLoad): string {
  const { cls, circuit } = benchClass(SLOW_CLASS);
  return (
    `${load.count.toLocaleString('en-US')} streams held at once through each target in turn (opened ${load.openPerS.toLocaleString('en-US')} a second), each a chunk every ${load.chunkMs} ms for ${load.seconds} s from the simulator; the client holds one socket per stream. ` +
    `Each target holds them twice. First the memory burst: the target serves ${primingCount(load)} streams of the same shape at the same rate, to their end, not measured (a process's first burst of a request shape runs partly unoptimized code and opens its upstream connections), and again after the idle reading (its full collection throws away compiled code), then the burst, read with every stream open. ` +
    `Then ${WARM_ROUNDS} rounds of ${warmingCount(load)} streams ${WARM_SECONDS} s long (the open reading's collection threw compiled code away again, and a function called once per stream is optimized only after a thousand or two calls), and the timed burst, with no reading in it: *first byte*, *first token*, *CPU per stream*, *chunks* and *late* are the timed burst's (the memory burst's first token p99 and CPU per stream are given beside them), *completed* and *errors* count both bursts (streams that failed in the primings or warm-up rounds are counted apart). ` +
    `The llm-router gateways run the bench's policy with the defaults' timeouts and circuit (first byte within ${cls.firstByteTimeoutMs / 1000} s for a ${cls.criticality} class, a ${circuit.cooldownMs / 1000} s cool-down). ` +
    "*idle RSS*, *RSS, all open*: resident memory right after a full garbage collection (V8's mark-compact, asked for over the process's inspector), at rest between the memory burst's two primings and with every stream of it open (halfway between the last one's request and the first one's end, or later, once each has had its first chunk; read after a stream ended or before one started, the figure is marked inconclusive); " +
    '*KB per open stream*: the difference over the streams (*heap KB per stream*: the same for the V8 heap in use plus external memory, the buffers bound to sockets and streams). ' +
    'Reading memory after a full collection leaves out the garbage the collector had not yet reached, which otherwise decides a single reading of RSS. ' +
    '*first byte*: time to the first body bytes; *first token*: time to the first SSE event with content, which the simulator sends one interval after its opening role-only event (so about the interval plus the path\'s delay). ' +
    'A gateway that can still fall back holds that opening event until content comes (llm-router does: a switch before the first token stays invisible to the client), a plain proxy passes it on at once, so the first byte compares buffering and the first token what the user waits for; the target is on the first token. ' +
    '*CPU per stream*: the process\'s user + system time (/proc) from the first request to the last stream\'s end, over the streams: opening, every chunk, closing. ' +
    `*peak RSS*: the highest VmRSS sampled every 100 ms during either burst. *chunks*: content events after the first; *late*: those in a read that came more than ${LATE_FACTOR}× the interval after the read with the previous content.`
  );
}

/** Each target's failures, below the table, then a blank line: what the client saw, then what the gateway's records say (no lines when none failed). */
export function streamsFailures(results: readonly OpenStreamsResult[]): string[] {
  const lines = results.flatMap((r) => failureLines(r.label, r.failures, r.failedRecords));
  return lines.length > 0
    ? ["What failed: the client's view of each failed stream of the two bursts, then the gateway's routing records of its failed calls, the primings' and warm-up rounds' too (each call's category and its attempts' codes).", '', ...lines, '']
    : [];
}

export function streamsTable(results: readonly OpenStreamsResult[]): string {
  return [
    '| target | streams | completed | errors | idle RSS MB | RSS, all open MB | peak RSS MB | KB per open stream | heap KB per stream | first byte p50 ms | first byte p99 ms | first token p50 ms | first token p99 ms | CPU µs per stream | memory burst: first token p99 ms | memory burst: CPU µs per stream | chunks | late chunks |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.label} | ${r.streams.toLocaleString('en-US')} × 2 | ${r.completed.toLocaleString('en-US')} | ${r.errors}${r.failures.length ? ` (${failuresCell(r.failures)})` : ''}${r.warmupErrors ? `; ${r.warmupErrors} in the warm-up` : ''} | ${f(r.idle.rssMB, 0)} | ${f(r.open.rssMB, 0)} | ${f(r.peakRssMB, 0)} | ${f(r.perStreamKB, 1)} | ${f(r.perStreamHeapKB, 1)} | ${f(r.ttfbP50, 1)} | ${f(r.ttfbP99, 1)} | ${f(r.ttftP50, 1)} | ${f(r.ttftP99, 1)} | ${f(r.cpuPerStreamUs, 0)} | ${f(r.memoryBurst.ttftP99, 1)} | ${f(r.memoryBurst.cpuPerStreamUs, 0)} | ${r.chunks.toLocaleString('en-US')} | ${r.chunksLate.toLocaleString('en-US')} (${f((100 * r.chunksLate) / Math.max(1, r.chunks), 2)} %) |`,
    ),
  ].join('\n');
}
