import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

/** One HTTP request as a target expects it. */
export interface RequestSpec {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface LoadResult {
  /** Completed responses (any status). */
  readonly requests: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  /** Milliseconds, full precision (autocannon's own histogram keeps whole milliseconds only). */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  /** Streaming client only: time to the first body chunk. */
  readonly ttfcP50?: number;
  readonly ttfcP99?: number;
  /** Paced client only: ms by which requests went out after they were due (the client's own lag, or every connection busy). */
  readonly lateP50?: number;
  readonly lateP99?: number;
  /** Paced client only: requests due that were never sent (no connection came free before the load's end). */
  readonly unsent?: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** `xs` rotated left by `n`: the order of the targets in round `n`. */
export function rotate<T>(xs: readonly T[], n: number): T[] {
  const k = ((n % xs.length) + xs.length) % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
  /** Median, 99th percentile and mean, in the samples' unit. */
  summary(): { p50: number; p99: number; mean: number } {
    const sorted = this.sorted();
    let sum = 0;
    for (const v of sorted) sum += v;
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.length ? sum / sorted.length : NaN };
  }
}

/**
 * autocannon against one target: throughput and per-response latency. `overallRate`: requests per second over all
 * connections (autocannon gives each connection its share per second, sent back to back from the second's start),
 * `overallRate` × `durationS` requests in all; req/s is then those over `durationS`, or over the time to the last
 * response when the target took longer (stopping at `durationS` instead would count a last second's burst begun before
 * the stop; autocannon itself notices the end of its count only at its next once-a-second tick).
 */
export function runAutocannon(spec: RequestSpec, connections: number, durationS: number, overallRate?: number, onLastResponse?: () => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies = new Samples();
    let ok = 0;
    let non2xx = 0;
    const started = process.hrtime.bigint();
    let lastResponse = started;
    const amount = overallRate ? Math.round(overallRate * durationS) : Infinity;
    // A target that stopped answering does not hold a rate-limited run (which ends on its count) much past its time.
    const guard = overallRate ? setTimeout(() => instance.stop(), (3 * durationS + 10) * 1000) : undefined;
    const instance = autocannon(
      {
        url: spec.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        body: spec.body,
        connections,
        duration: durationS,
        pipelining: 1,
        timeout: 10,
        ...(overallRate ? { overallRate, amount } : {}),
      },
      (err, result) => {
        clearTimeout(guard);
        if (err) return reject(err);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const requests = ok + non2xx;
        resolve({
          requests,
          ok,
          non2xx,
          errors: result.errors + result.timeouts,
          seconds,
          rps: overallRate ? requests / Math.max(durationS, Number(lastResponse - started) / 1e9) : requests / Math.min(seconds, result.duration || seconds),
          ...latencies.summary(),
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      lastResponse = process.hrtime.bigint();
      if (statusCode >= 200 && statusCode < 300) ok++;
      else non2xx++;
      latencies.push(responseTime);
      if (ok + non2xx === amount) onLastResponse?.();
    });
  });
}

/** A request whose socket stays silent this long fails (as autocannon's `timeout: 10`): a hung call does not hold a run. */
const IDLE_TIMEOUT_MS = 10_000;

/** One request on node:http through `agent`: its status and ms to the first body chunk (-1: none) and to the end; undefined on a socket error or timeout. */
function timedRequest(agent: Agent, url: URL, headers: Record<string, string>, body: Buffer): Promise<{ status: number; firstMs: number; totalMs: number } | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let first = -1;
    const req = request({ agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      res.on('data', () => {
        if (first < 0) first = performance.now() - t0;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, firstMs: first, totalMs: performance.now() - t0 }));
      res.on('error', () => resolve(undefined));
      res.on('close', () => resolve(undefined)); // after 'end' a no-op; before it, the socket went away mid-body
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no bytes for ${IDLE_TIMEOUT_MS} ms`)));
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

export const is2xx = (status: number) => status >= 200 && status < 300;

/** A keep-alive agent of `connections` sockets and the request's parts, for the node:http clients below. */
function clientFor(spec: RequestSpec, connections: number) {
  const body = Buffer.from(spec.body);
  return {
    agent: new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections }),
    url: new URL(spec.url),
    body,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...spec.headers },
  };
}

/**
 * A streaming client on node:http: `connections` loops of back-to-back requests,
 * each timing the first body chunk (TTFC) and the end of the stream.
 */
export async function runStreamClient(spec: RequestSpec, connections: number, durationS: number): Promise<LoadResult> {
  const { agent, url, body, headers } = clientFor(spec, connections);
  const ttfc = new Samples();
  const total = new Samples();
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const endAt = performance.now() + durationS * 1000;

  const one = async () => {
    const r = await timedRequest(agent, url, headers, body);
    if (!r) errors++;
    else if (is2xx(r.status) && r.firstMs >= 0) {
      ok++;
      ttfc.push(r.firstMs);
      total.push(r.totalMs);
    } else non2xx++;
  };

  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < endAt) await one();
    }),
  );
  agent.destroy();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const first = ttfc.summary();
  return {
    requests: ok + non2xx,
    ok,
    non2xx,
    errors,
    seconds,
    rps: (ok + non2xx) / seconds,
    ...total.summary(),
    ttfcP50: first.p50,
    ttfcP99: first.p99,
  };
}

/** Called with each response of the paced client: its status, its latency (ms from the request's send to its last byte) and how late it was sent (ms after its due time). */
export type OnResponse = (status: number, ms: number, lateMs: number) => void;

/** By default the paced client sends nothing more this long after the load's last due time: a target that fell behind does not stretch the run without end. */
const PACED_END_GRACE_MS = 1000;

/**
 * An open-loop client on node:http at a fixed offered rate: the n-th request is due at n / `ratePerS` seconds after
 * the start and goes out on a free connection of `connections` (keep-alive) as soon as it is due; when all are busy it
 * waits for the first to come free. Unlike autocannon's rate, which lets each connection send its share of a second
 * back to back from the second's start (a burst at full speed, then idle), requests arrive evenly. Latency runs from
 * the send; `lateP50`/`lateP99` say how long after their due time requests went out (the client's own lag, or every
 * connection busy: the target fell behind); `unsent`: requests no connection came free for before the load's end
 * (plus `endGraceMs`). `onResponse` sees every response as it comes.
 */
export async function runPacedClient(
  spec: RequestSpec,
  connections: number,
  ratePerS: number,
  durationS: number,
  onResponse?: OnResponse,
  endGraceMs = PACED_END_GRACE_MS,
): Promise<LoadResult> {
  const { agent, url, body, headers } = clientFor(spec, connections);
  const total = new Samples();
  const late = new Samples();
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let inFlight = 0;
  const t0 = performance.now();
  const due = Math.floor(ratePerS * durationS);
  // Request n (from 0) is the (n + 1)-th: due once (n + 1) / rate seconds have passed.
  const dueMs = (n: number) => ((n + 1) * 1000) / ratePerS;
  const endMs = dueMs(due - 1) + endGraceMs;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  // Requests due while every connection is busy wait as a count, not as request objects queued in the agent: behind a
  // target that fell behind, thousands of those made this process the bottleneck (one soak's served rate fell to
  // 13 req/s of 1,387 offered, the gateway idle, this process busy).
  const pump = () => {
    const now = performance.now() - t0;
    if (now <= endMs) while (sent < due && inFlight < connections && dueMs(sent) <= now) send(now - dueMs(sent));
    if ((sent === due || now > endMs) && inFlight === 0) done();
  };
  const send = (lateMs: number) => {
    late.push(lateMs);
    sent++;
    inFlight++;
    void timedRequest(agent, url, headers, body).then((r) => {
      if (!r) errors++;
      else {
        if (is2xx(r.status)) ok++;
        else non2xx++;
        total.push(r.totalMs);
        onResponse?.(r.status, r.totalMs, lateMs);
      }
      inFlight--;
      pump();
    });
  };
  // A 1 ms tick sends what has come due since the last (at 2,000 req/s two or three a tick); a response frees its
  // connection for the next at once.
  const tick = setInterval(pump, 1);
  pump();
  await finished;
  clearInterval(tick);
  agent.destroy();
  const seconds = (performance.now() - t0) / 1000;
  const lateness = late.summary();
  return { requests: ok + non2xx, ok, non2xx, errors, unsent: due - sent, seconds, rps: (ok + non2xx) / seconds, ...total.summary(), lateP50: lateness.p50, lateP99: lateness.p99 };
}
