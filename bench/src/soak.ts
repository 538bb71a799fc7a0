/**
 * The soak: a fresh gateway (the production configuration when it runs) under
 * load at about half its measured capacity, offered evenly (runPacedClient), for a long while, with faults
 * coming and going on the primary (the fallback class: 503s, 500s, resets,
 * slow answers; the circuit opens and closes again). Every few seconds:
 * resident memory and the heap in use, as they are and again right after a
 * full collection (over the gateway's inspector), p50/p99 latency of that window, and the event loop's delay
 * (the gateway's own monitor, read from GET /metrics). At the end: memory
 * growth after warm-up (what a full collection leaves, second half against
 * first: a leak raises it, garbage does not), latency drift (the halves' median windows), and the tenant's ledger against the sum of its routing records.
 */
import { is2xx, median, percentile, runAutocannon, runPacedClient, type RequestSpec } from './load.js';
import { collectedMemory, INSPECTABLE } from './inspector.js';
import { ADMIN_HEADERS, credentials, writePolicyVariant } from './our-gateway.js';
import { currentRss, httpJson, sleep, stopService, type Service } from './processes.js';
import { startGateway } from './fleet.js';
import type { TargetCheck } from './report.js';
import { body, PRIMARY } from './scenarios.js';

export interface SoakSample {
  /** Seconds since the load started, at the end of the window. */
  readonly t: number;
  readonly rssMB: number;
  /** V8's heap in use at the window's end (prom-client's nodejs_heap_size_used_bytes): RSS that rises while this stays flat is the heap's reservation, not live objects. */
  readonly heapUsedMB: number;
  /** VmRSS right after a full (mark-compact) collection, asked for at the window's end: what the process holds, not the garbage it has yet to reach. */
  readonly collectedRssMB: number;
  /** The V8 heap in use right after that collection: the live objects. */
  readonly liveHeapMB: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly p50: number;
  readonly p99: number;
  /** How long after their due time this window's answered requests were sent, p99, ms: the client's own lag, or every connection busy (the gateway fell behind the rate). */
  readonly sentLateP99Ms: number;
  /** The gateway's event-loop delay over the window (monitorEventLoopDelay, reset at every scrape), ms. */
  readonly loopP50Ms: number;
  readonly loopP99Ms: number;
  /** Routing records waiting for the store (the gateway's llm_gateway_records_pending gauge): a queue that grows is memory that grows. */
  readonly recordsPending: number;
}

export interface SoakResult {
  readonly gateway: string;
  readonly seconds: number;
  readonly sampleS: number;
  readonly warmupS: number;
  readonly capacityRps: number;
  readonly rateRps: number;
  /** The load's keep-alive connections. */
  readonly conns: number;
  /** ms by which the paced client's requests went out after they were due, p50 and p99 over the run: the rate was held when these are a tick or two. */
  readonly lateP50: number;
  readonly lateP99: number;
  /** Requests due that were never sent: no connection came free before the load's end (the gateway fell behind). */
  readonly unsent: number;
  readonly samples: SoakSample[];
  readonly faultsInjected: number;
  readonly requests: number;
  /** From the load's start to its last answer: longer than `seconds` when the gateway fell behind the rate. */
  readonly loadSeconds: number;
  readonly non2xx: number;
  readonly errors: number;
  /**
   * RSS growth after warm-up, %: the lowest RSS after a full collection in the second half of the windows against the
   * lowest in the first half. Read without the collection, RSS follows the heap's sawtooth (old space fills with promoted
   * garbage until V8 collects it, at a moment of its own), so a window's reading says more about where in the sawtooth it
   * fell than about what is held; after the collection a leak raises it and garbage does not.
   */
  readonly rssGrowthPct: number;
  /** The same for the heap in use after the collection (the live objects). */
  readonly heapGrowthPct: number;
  readonly peakRssMB: number;
  /** After warm-up, the median of the second half's windows' p50 (and p99) over the first half's: one window's p99 on a shared machine is noise. */
  readonly p50Drift: number;
  readonly p99Drift: number;
  /** At the end, once no reservation is held (or SETTLE_LIMIT_MS passed: `settleMs` says how long it took). */
  readonly ledger: { spentUsd: number; reservedUsd: number; recordedUsd: number; recordedRequests: number; equal: boolean; settleMs: number };
  /** Recorded calls served by a fallback: the faults took effect. */
  readonly fallbacks: number;
}

/** The faults that take turns on the primary, each for its next few requests. */
const FAULTS = [{ error: 'overloaded' }, { error: 'server_error' }, { reset: true }, { latencyMs: 200 }] as const;
/** Fault windows (a rule on the primary) and healthy windows take turns, each this long. */
const FAULT_WINDOW_MS = 5000;
/** How long the end waits for the reservations of calls still in flight. */
const SETTLE_LIMIT_MS = 15_000;
/** Warm-up: this share of the run, at least one window, before growth and drift are taken. */
const WARMUP_SHARE = 0.2;

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** prom-client's event-loop monitor ticks every 10 ms (its default precision) and reports the time between ticks: the tick is taken off. */
const LOOP_TICK_MS = 10;

/** What the soak reads from the gateway's GET /metrics each window. */
async function gatewayGauges(gw: Service): Promise<{ p50: number; p99: number; recordsPending: number; heapUsedMB: number }> {
  const r = await httpJson(`${gw.url}/metrics`);
  const ms = (name: string) => Math.max(0, metric(r.text, name) * 1000 - LOOP_TICK_MS);
  return {
    p50: ms('llm_gateway_nodejs_eventloop_lag_p50_seconds'),
    p99: ms('llm_gateway_nodejs_eventloop_lag_p99_seconds'),
    recordsPending: metric(r.text, 'llm_gateway_records_pending'),
    heapUsedMB: metric(r.text, 'llm_gateway_nodejs_heap_size_used_bytes') / 2 ** 20,
  };
}

/** The median of the second half over the median of the first half. */
function halvesDrift(values: number[]): number {
  if (values.length < 2) return NaN;
  const half = Math.floor(values.length / 2);
  return median(values.slice(half)) / median(values.slice(0, half));
}

/** Growth of the floor, %: the lowest value of the second half against the lowest of the first half. */
function floorGrowthPct(values: number[]): number {
  if (values.length < 2) return NaN;
  const half = Math.floor(values.length / 2);
  const before = Math.min(...values.slice(0, half));
  return (100 * (Math.min(...values.slice(half)) - before)) / before;
}

export interface SoakRun {
  readonly simUrl: string;
  readonly policy: string;
  /** Redis and PostgreSQL for the gateway, when the production configuration runs. */
  readonly shared?: Record<string, string>;
  readonly seconds: number;
  readonly sampleS: number;
  readonly conns: number;
}

export async function runSoak(run: SoakRun, log: (s: string) => void): Promise<SoakResult> {
  // The circuit opens on a burst of faults and closes again after 5 s: the soak goes through both, many times.
  const policy = writePolicyVariant(run.policy, 'soak', 'the circuit cools down in 5 s', (doc) => (doc.circuit = { ...doc.circuit, cooldownMs: 5000 }));
  const gw = await startGateway('soak', policy, run.shared, { NODE_OPTIONS: INSPECTABLE });
  try {
    await httpJson(`${run.simUrl}/_sim/faults`, 'DELETE');
    const spec: RequestSpec = { url: `${gw.url}/v1/chat/completions`, headers: { ...(await credentials(gw, log)), 'x-traffic-class': 'bench-fallback' }, body: body('auto', false) };
    await runAutocannon(spec, run.conns, 2); // warm-up: a cold process would understate its capacity
    const capacity = await runAutocannon(spec, run.conns, 3);
    const rate = Math.max(1, Math.round(capacity.rps / 2));
    const warmupS = Math.max(run.sampleS, Math.round((run.seconds * WARMUP_SHARE) / run.sampleS) * run.sampleS);
    log(`soak: ${gw.name} (${run.shared ? 'production configuration' : 'embedded configuration'}), capacity ${capacity.rps.toFixed(0)} req/s: ${rate} req/s for ${run.seconds} s, a sample every ${run.sampleS} s, faults on`);
    await gatewayGauges(gw); // resets the gateway's loop-delay histogram

    let window: number[] = [];
    let windowLate: number[] = [];
    let windowNon2xx = 0;
    const samples: SoakSample[] = [];
    /** Each window's sample, still reading the gateway's gauges and memory. */
    const sampling: Promise<void>[] = [];
    const started = performance.now();
    let faults = 0;
    let tick = 0;
    // Fault windows and healthy windows take turns, 5 s each. Each window starts by clearing the rules: a rule the
    // open circuit kept from being used up would otherwise stay, and rules piling up keep the primary failing for good.
    const faultTimer = setInterval(() => {
      const faulty = tick++ % 2 === 0;
      const fault = faulty ? FAULTS[faults++ % FAULTS.length]! : undefined;
      void httpJson(`${run.simUrl}/_sim/faults`, 'DELETE')
        .then(() => fault && httpJson(`${run.simUrl}/_sim/faults`, 'POST', { match: { model: PRIMARY }, times: 20, fault }))
        .catch(() => undefined);
    }, FAULT_WINDOW_MS);
    const sampleTimer = setInterval(() => {
      const lat = Float64Array.from(window).sort();
      const late = Float64Array.from(windowLate).sort();
      const n = window.length;
      const bad = windowNon2xx;
      window = [];
      windowLate = [];
      windowNon2xx = 0;
      const t = (performance.now() - started) / 1000;
      const rssMB = currentRss(gw.pid) / 2 ** 20;
      const sample = gatewayGauges(gw)
        .catch(() => ({ p50: NaN, p99: NaN, recordsPending: NaN, heapUsedMB: NaN }))
        .then(async (g) => {
          // After the gauges (the heap as the window left it), then the collection.
          const collected = await collectedMemory(gw).catch(() => ({ rssMB: NaN, heapUsedMB: NaN }));
          const s: SoakSample = {
            t,
            rssMB,
            heapUsedMB: g.heapUsedMB,
            collectedRssMB: collected.rssMB,
            liveHeapMB: collected.heapUsedMB,
            requests: n,
            non2xx: bad,
            p50: percentile(lat, 50),
            p99: percentile(lat, 99),
            sentLateP99Ms: percentile(late, 99),
            loopP50Ms: g.p50,
            loopP99Ms: g.p99,
            recordsPending: g.recordsPending,
          };
          samples.push(s);
          log(`  soak ${s.t.toFixed(0).padStart(5)} s  RSS ${s.rssMB.toFixed(0)} MB  heap ${s.heapUsedMB.toFixed(0)} MB  after a full collection ${s.collectedRssMB.toFixed(0)} / ${s.liveHeapMB.toFixed(0)} MB  ${n} req  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  sent late p99 ${s.sentLateP99Ms.toFixed(1)} ms  loop p99 ${s.loopP99Ms.toFixed(1)} ms${bad ? `  ${bad} non-2xx` : ''}`);
        });
      sampling.push(sample);
    }, run.sampleS * 1000);
    // Offered evenly (the n-th request n / rate s after the start), not in autocannon's once-a-second bursts, whose
    // queueing at full concurrency would be what the windows' p99 measured.
    const load = await runPacedClient(spec, run.conns, rate, run.seconds, (status, ms, lateMs) => {
      window.push(ms);
      windowLate.push(lateMs);
      if (!is2xx(status)) windowNon2xx++;
    });
    log(`soak: offered ${rate} req/s for ${run.seconds} s (${Math.floor(rate * run.seconds)} requests, ${load.unsent} not sent), ${load.requests} answered at ${load.rps.toFixed(0)} req/s over ${load.seconds.toFixed(1)} s; requests went out ${load.lateP50!.toFixed(2)} ms (p50), ${load.lateP99!.toFixed(2)} ms (p99) after they were due`);
    // The paced load ends right after its last request's due time, which is the last window's end: let that window's
    // sample come (it may be due a moment later), and every sample finish, before the windows are read.
    const windows = Math.floor(run.seconds / run.sampleS);
    while (sampling.length < windows) await sleep(10);
    clearInterval(faultTimer);
    clearInterval(sampleTimer);
    await Promise.all(sampling);
    await httpJson(`${run.simUrl}/_sim/faults`, 'DELETE');

    const after = samples.filter((s) => s.t > warmupS + 0.5);
    // Calls the load left in flight hold their reservations until they end (a loaded machine answers late): wait for them, up to a limit.
    const settleStarted = performance.now();
    let budget: { spentUsd: number; reservedUsd: number };
    do {
      await sleep(250);
      budget = (await httpJson(`${gw.url}/admin/tenants/bench/budget`, 'GET', undefined, ADMIN_HEADERS)).json() as { spentUsd: number; reservedUsd: number };
    } while (budget.reservedUsd !== 0 && performance.now() - settleStarted < SETTLE_LIMIT_MS);
    const settleMs = performance.now() - settleStarted;
    const usage = (await httpJson(`${gw.url}/admin/tenants/bench/usage`, 'GET', undefined, ADMIN_HEADERS)).json() as { totals: { costUsd: number; requests: number; fallbacks: number } };
    return {
      gateway: run.shared ? 'production configuration' : 'embedded configuration',
      seconds: run.seconds,
      sampleS: run.sampleS,
      warmupS,
      capacityRps: capacity.rps,
      rateRps: rate,
      conns: run.conns,
      lateP50: load.lateP50!,
      lateP99: load.lateP99!,
      unsent: load.unsent!,
      samples,
      faultsInjected: faults,
      requests: load.requests,
      loadSeconds: load.seconds,
      non2xx: load.non2xx,
      errors: load.errors,
      fallbacks: usage.totals.fallbacks,
      rssGrowthPct: floorGrowthPct(after.map((s) => s.collectedRssMB)),
      heapGrowthPct: floorGrowthPct(after.map((s) => s.liveHeapMB)),
      peakRssMB: Math.max(...samples.map((s) => s.rssMB)),
      p50Drift: halvesDrift(after.map((s) => s.p50)),
      p99Drift: halvesDrift(after.map((s) => s.p99)),
      ledger: {
        spentUsd: budget.spentUsd,
        reservedUsd: budget.reservedUsd,
        recordedUsd: usage.totals.costUsd,
        recordedRequests: usage.totals.requests,
        equal: Math.abs(budget.spentUsd - usage.totals.costUsd) <= 1e-6 && budget.reservedUsd === 0,
        settleMs,
      },
    };
  } finally {
    await stopService(gw);
  }
}

const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/** Latency drift that counts as none: the last window within this factor of the first (a shared machine's windows wander). */
export const NO_DRIFT = 1.2;

export function soakChecks(s: SoakResult): TargetCheck[] {
  return [
    { goal: `soak (${s.seconds} s): resident memory growth after warm-up < 5 %`, measured: `${f(s.rssGrowthPct, 1)} % (after full collections: the lowest RSS of the second half after warm-up against the first half's; live heap ${f(s.heapGrowthPct, 1)} %; peak ${f(s.peakRssMB, 0)} MB)`, met: s.rssGrowthPct < 5, by: `${f(s.rssGrowthPct - 5, 1)} points` },
    { goal: `soak: no latency drift (after warm-up, the second half's median window p50 and p99 within ${NO_DRIFT}× the first half's)`, measured: `p50 ${f(s.p50Drift, 2)}×, p99 ${f(s.p99Drift, 2)}×${s.unsent > 0 ? `; ${s.unsent} requests not sent (every connection busy to the load's end: the gateway fell behind, which latency from the send does not show)` : ''}`, met: s.p50Drift <= NO_DRIFT && s.p99Drift <= NO_DRIFT && s.unsent === 0, by: s.unsent > 0 ? `${s.unsent} not sent` : `${f(Math.max(s.p50Drift, s.p99Drift) - NO_DRIFT, 2)}×` },
    {
      goal: 'soak: the ledger equals the sum of the routing records at the end',
      measured: `spent $${f(s.ledger.spentUsd, 6)} (reserved $${f(s.ledger.reservedUsd, 6)}) vs recorded $${f(s.ledger.recordedUsd, 6)} over ${s.ledger.recordedRequests.toLocaleString('en-US')} records, ${f(s.ledger.settleMs / 1000, 1)} s after the load`,
      met: s.ledger.equal,
    },
  ];
}

export function soakMarkdown(s: SoakResult): string {
  return [
    `${s.gateway}; capacity ${f(s.capacityRps, 0)} req/s (autocannon, 3 s at ${s.conns} connections after 2 s of warm-up, fallback class), load ${s.rateRps} req/s for ${s.seconds} s, ` +
      `offered evenly by an open-loop node:http client on a keep-alive pool of ${s.conns} connections (the n-th request n / rate seconds after the start, or as soon as a connection comes free; requests went out ${f(s.lateP50, 2)} ms (p50) and ${f(s.lateP99, 2)} ms (p99) after they were due, ${s.unsent} not sent before the load's end), not in autocannon's once-a-second bursts; ` +
      `${FAULT_WINDOW_MS / 1000} s windows with a fault rule on the primary and ${FAULT_WINDOW_MS / 1000} s without, in turn (${FAULTS.map((x) => JSON.stringify(x)).join(', ')}, each for at most 20 requests; ${s.faultsInjected} in all), the circuit cooling down in 5 s. ` +
      `${s.requests.toLocaleString('en-US')} requests answered in ${f(s.loadSeconds, 1)} s, ${s.non2xx} non-2xx, ${s.errors} errors; ${s.fallbacks.toLocaleString('en-US')} of the recorded calls fell back. Warm-up: the first ${s.warmupS} s. ` +
      `Per window: VmRSS and the V8 heap in use at its end, then both again right after a full collection (asked for over the gateway's inspector: what it holds, without the garbage V8 had yet to collect; growth is taken on these), latency of the responses in it (from their send) and how long after their due time they were sent (p99), the gateway's event-loop delay (prom-client's monitor, read from GET /metrics and reset by each read, its ${LOOP_TICK_MS} ms tick taken off) and the routing records waiting for the store.`,
    '',
    '| t s | RSS MB | heap used MB | RSS after a full collection MB | live heap MB | requests | non-2xx | p50 ms | p99 ms | sent late p99 ms | event-loop delay p50 ms | event-loop delay p99 ms | records pending |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...s.samples.map((x) => `| ${f(x.t, 0)} | ${f(x.rssMB, 1)} | ${f(x.heapUsedMB, 1)} | ${f(x.collectedRssMB, 1)} | ${f(x.liveHeapMB, 1)} | ${x.requests} | ${x.non2xx} | ${f(x.p50, 2)} | ${f(x.p99, 2)} | ${f(x.sentLateP99Ms, 1)} | ${f(x.loopP50Ms, 2)} | ${f(x.loopP99Ms, 2)} | ${f(x.recordsPending, 0)} |`),
  ].join('\n');
}
