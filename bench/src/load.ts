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
}

/** autocannon against one target: throughput and per-response latency. */
export function runAutocannon(spec: RequestSpec, connections: number, durationS: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies = new Samples();
    let ok = 0;
    let non2xx = 0;
    const started = process.hrtime.bigint();
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
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const sorted = latencies.sorted();
        const requests = ok + non2xx;
        let sum = 0;
        for (const v of sorted) sum += v;
        resolve({
          requests,
          ok,
          non2xx,
          errors: result.errors + result.timeouts,
          seconds,
          rps: requests / Math.min(seconds, result.duration || seconds),
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          mean: sorted.length ? sum / sorted.length : NaN,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) ok++;
      else non2xx++;
      latencies.push(responseTime);
    });
  });
}

/**
 * A streaming client on node:http: `connections` loops of back-to-back requests,
 * each timing the first body chunk (TTFC) and the end of the stream.
 */
export async function runStreamClient(spec: RequestSpec, connections: number, durationS: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const url = new URL(spec.url);
  const body = Buffer.from(spec.body);
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), ...spec.headers };
  const ttfc = new Samples();
  const total = new Samples();
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const endAt = performance.now() + durationS * 1000;

  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      let first = -1;
      const req = request({ agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
        res.on('data', () => {
          if (first < 0) first = performance.now() - t0;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && first >= 0) {
            ok++;
            ttfc.push(first);
            total.push(performance.now() - t0);
          } else {
            non2xx++;
          }
          resolve();
        });
        res.on('error', () => {
          errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });

  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < endAt) await one();
    }),
  );
  agent.destroy();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const t = total.sorted();
  const f = ttfc.sorted();
  let sum = 0;
  for (const v of t) sum += v;
  return {
    requests: ok + non2xx,
    ok,
    non2xx,
    errors,
    seconds,
    rps: (ok + non2xx) / seconds,
    p50: percentile(t, 50),
    p99: percentile(t, 99),
    mean: t.length ? sum / t.length : NaN,
    ttfcP50: percentile(f, 50),
    ttfcP99: percentile(f, 99),
  };
}
