/**
 * Scenario 6, the chaos soak: ≥ 10,000 requests at concurrency 16, 30 % of
 * them with a fault on the primary (503, 500, 429 with Retry-After, a hang, a
 * slow first byte, a reset; for streams also a cut before or after the first
 * chunk and an error event), a few with the fallbacks failing too. Every
 * request must be served or explicitly refused, none hung (the client waits
 * far longer than the class deadline).
 */
import { Rng } from '../fuzz.js';
import { chatBody, countBy, Load, simDirective } from '../load.js';
import { percentile } from '../../../bench/src/load.js';
import { fmt, pct, type Scenario } from '../scenario.js';
import { Gateway, UPSTREAM } from '../stack.js';

const TENANT = 'soak';

type Fault = readonly [string, Record<string, unknown>];

const JSON_FAULTS: readonly Fault[] = [
  ['503', { error: 'overloaded' }],
  ['500', { error: 'server_error' }],
  ['429 retry-after 1 s', { error: 'rate_limit', retryAfter: 1 }],
  ['hang', { hang: true }],
  ['slow first byte', { latencyMs: 2_500 }],
  ['reset', { reset: true }],
];
const STREAM_FAULTS: readonly Fault[] = [
  ...JSON_FAULTS,
  ['stream cut before the first chunk', { streamCutAfter: 0 }],
  ['stream cut after 2 chunks', { streamCutAfter: 2 }],
  ['stream error event after 1 chunk', { streamErrorAfter: 1 }],
  ['stream stalls before its first chunk', { chunks: 4, chunkDelayMs: 3_000 }],
];

export const soakScenario: Scenario = {
  id: 'soak',
  title: 'Chaos soak: primary faults under load',
  async run({ cfg, sim, logDir, log }, result) {
    const gw = await Gateway.start(sim, { name: 'soak', store: 'sqlite', databaseUrl: cfg.databaseUrl, logDir, env: { LLM_REQUEST_LOG: 'false' } });
    try {
      await gw.setBudget(TENANT, 1_000_000);
      const { key } = await gw.createKey(TENANT);
      const r = new Rng(cfg.seed + 6);
      let issued = 0;
      const load = new Load(
        () => gw.url,
        cfg.soakConcurrency,
        () => {
          if (issued >= cfg.soakRequests) return undefined;
          const n = issued++;
          const stream = r.chance(0.3);
          let tag = 'no fault';
          const directives: string[] = [];
          if (r.chance(cfg.soakFaultRate)) {
            const [label, fault] = r.pick(stream ? STREAM_FAULTS : JSON_FAULTS);
            tag = label;
            directives.push(simDirective(UPSTREAM.a, fault));
            // A few find the fallbacks failing too: some of those must end in an explicit refusal.
            if (r.chance(0.1)) {
              directives.push(simDirective(UPSTREAM.b, { error: 'overloaded' }));
              tag += ' + secondary 529';
              if (r.chance(0.5)) {
                directives.push(simDirective(UPSTREAM.c, { error: 'bad_gateway' }));
                tag += ' + tertiary 502';
              }
            }
          }
          if (n > 0 && n % 1000 === 0) log(`soak: ${n} requests issued`);
          return {
            path: '/v1/chat/completions',
            body: chatBody(`soak ${n} ${directives.join(' ')}`, { max_tokens: 32, ...(stream ? { stream: true } : {}) }),
            headers: { authorization: `Bearer ${key}`, 'x-traffic-class': 'soak' },
            stream,
            tag: `${stream ? 'stream' : 'json'}: ${tag}`,
          };
        },
        cfg.clientTimeoutMs,
      ).start();
      const started = Date.now();
      const done = await load.finished();
      const seconds = (Date.now() - started) / 1000;
      const by = Object.fromEntries(countBy(done, (e) => e.outcome));
      const served = by.served ?? 0;
      const refused = by.refused ?? 0;
      const hung = by.hung ?? 0;
      const broken = done.filter((e) => e.outcome === 'broken');
      const latencies = done.map((e) => e.endedAt - e.startedAt).sort((a, b) => a - b);
      const faulted = done.filter((e) => !e.spec.tag.endsWith('no fault')).length;

      result.figures = {
        requests: done.length,
        concurrency: cfg.soakConcurrency,
        faultRate: cfg.soakFaultRate,
        withPrimaryFault: faulted,
        served,
        refused,
        hung,
        broken: broken.length,
        seconds,
        latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? 0 },
        refusedBy: Object.fromEntries(countBy(done.filter((e) => e.outcome === 'refused'), (e) => e.why)),
        byRequest: Object.fromEntries(countBy(done, (e) => `${e.spec.tag} → ${e.outcome}`)),
      };
      result.targets.push(
        { target: 'soak: ≥ 10,000 requests, 30 % with a primary fault', measured: `${fmt(done.length)} requests, ${pct(faulted, done.length)} with a primary fault`, met: done.length >= 10_000 && cfg.soakFaultRate >= 0.3 },
        {
          target: 'soak: 100 % served or explicitly refused',
          measured: `${pct(served + refused, done.length)} (${pct(served, done.length)} served, ${pct(refused, done.length)} refused with an OpenAI error; ${fmt(done.length)} requests, ${fmt(faulted)} with a primary fault, ${seconds.toFixed(0)} s)`,
          met: served + refused === done.length,
        },
        { target: 'soak: 0 hung', measured: `${hung} hung (client timeout ${fmt(cfg.clientTimeoutMs)} ms, class deadline 4,000 ms); latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1] ?? 0} ms`, met: hung === 0 },
      );
      result.notes.push(
        `Refused, by code: ${countBy(done.filter((e) => e.outcome === 'refused'), (e) => e.why).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}.`,
        'How each kind of request ended:',
        '| request | served | refused | hung | neither |',
        '|---|---:|---:|---:|---:|',
        ...countBy(done, (e) => e.spec.tag).map(([tag]) => {
          const of = done.filter((e) => e.spec.tag === tag);
          const n = (o: string) => of.filter((e) => e.outcome === o).length;
          return `| ${tag} | ${n('served')} | ${n('refused')} | ${n('hung')} | ${n('broken')} |`;
        }),
        ...(broken.length > 0 ? [`Neither served nor explicitly refused, the first 10: ${broken.slice(0, 10).map((e) => `${e.spec.tag}: ${e.why}`).join('; ')}.`] : []),
      );
    } finally {
      await gw.dispose();
    }
  },
};
