/**
 * Scenario 1, the fuzz: ≥ 2,000 malformed and hostile requests over every
 * endpoint, on the production shape (PostgreSQL and Redis), then the reads an
 * operator relies on, before and after a restart (a stored value the fuzz
 * slipped in must not break them: issue #13 item 6's `expiresInSeconds: 9e15`).
 */
import { httpJson } from '../../../bench/src/processes.js';
import { runFuzz, type Offender } from '../fuzz.js';
import { countBy } from '../load.js';
import { fmt, type Scenario } from '../scenario.js';
import { ADMIN_KEY, Gateway, postgresReachable, RedisServer } from '../stack.js';

const listOffenders = (title: string, list: readonly Offender[], most = 25) =>
  list.length === 0
    ? []
    : [
        `${title} (${list.length}; by mutation: ${countBy(list, (o) => o.mutation).map(([m, n]) => `${m} ${n}`).join(', ')})${list.length > most ? `, the first ${most}` : ''}:`,
        ...list.slice(0, most).map((o) => `  #${o.n} ${o.endpoint} [${o.mutation}] ${o.request} → ${o.status || '–'} ${o.answer.replace(/\s+/g, ' ').slice(0, 160)}`),
      ];

export const fuzzScenario: Scenario = {
  id: 'fuzz',
  title: 'Fuzz: malformed and hostile requests over every endpoint',
  async run({ cfg, sim, logDir, log }, result) {
    const pgOk = await postgresReachable(cfg.databaseUrl);
    const store = pgOk === true ? 'postgres' : 'sqlite';
    if (pgOk !== true) result.notes.push(`${pgOk}: the fuzz ran on SQLite instead`);
    const redis = await RedisServer.start('redis-fuzz', cfg.redisServer, logDir);
    const gw = await Gateway.start(sim, { name: 'fuzz', store, databaseUrl: cfg.databaseUrl, redis, logDir });
    try {
      const { key } = await gw.createKey('fuzz');
      await gw.setBudget('fuzz', 1000);
      log(`fuzz: ${cfg.fuzzRequests} requests (seed ${cfg.seed}) on ${store} + Redis`);
      const fuzz = await runFuzz(gw.port, { user: key, admin: ADMIN_KEY }, {
        requests: cfg.fuzzRequests,
        seed: cfg.seed,
        concurrency: cfg.fuzzConcurrency,
        timeoutMs: 45_000,
        onProgress: (n) => log(`fuzz: ${n} sent`),
      });
      const reads = async () => {
        const out: Record<string, number> = {};
        for (const [path, auth] of [
          ['/admin/keys', ADMIN_KEY],
          ['/admin/report', ADMIN_KEY],
          ['/admin/tenants/fuzz/budget', ADMIN_KEY],
          ['/v1/usage', key],
          ['/v1/models', key],
          ['/health/ready', ''],
        ] as const) {
          const r = await httpJson(`${gw.url}${path}`, 'GET', undefined, auth ? { authorization: `Bearer ${auth}` } : {}).catch(() => ({ status: 0 }));
          out[path] = r.status;
        }
        return out;
      };
      const afterFuzz = await reads();
      await gw.stop('SIGTERM');
      await gw.restart();
      const afterRestart = await reads();
      const failedReads = [...Object.entries(afterFuzz).map(([p, s]) => [`${p} after the fuzz`, s] as const), ...Object.entries(afterRestart).map(([p, s]) => [`${p} after a restart`, s] as const)].filter(
        ([, s]) => s !== 200,
      );

      const byStatus = Object.entries(fuzz.byStatus).sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}: ${fmt(n)}`).join(', ');
      result.figures = { store, ...fuzz, readsAfterFuzz: afterFuzz, readsAfterRestart: afterRestart };
      const endpoints = Object.keys(fuzz.byEndpoint).length;
      result.targets.push(
        { target: '≥ 2,000 malformed requests over every endpoint', measured: `${fmt(fuzz.requests)} requests over ${endpoints} endpoints (and unknown paths), ${(fuzz.ms / 1000).toFixed(1)} s`, met: fuzz.requests >= 2000 },
        { target: '0 5xx', measured: `${fuzz.serverErrors.length} 5xx`, met: fuzz.serverErrors.length === 0 },
        { target: 'every 4xx in the OpenAI error shape {error:{message,type,code,param}}', measured: `${fuzz.notOpenAiShape.length} not in the shape`, met: fuzz.notOpenAiShape.length === 0 },
        { target: 'every request answered (no reset, no hang)', measured: `${fuzz.unanswered.length} unanswered`, met: fuzz.unanswered.length === 0 },
        {
          target: 'the admin and /v1 reads still answer 200 after the fuzz and after a restart',
          measured: failedReads.length === 0 ? 'all 200' : failedReads.map(([p, s]) => `${p}: ${s}`).join('; '),
          met: failedReads.length === 0,
        },
      );
      result.notes.push(
        `Statuses: ${byStatus}.`,
        `Per endpoint: ${Object.entries(fuzz.byEndpoint).map(([e, n]) => `${e} ${n}`).join(', ')}.`,
        ...listOffenders('5xx', fuzz.serverErrors),
        ...listOffenders('4xx not in the OpenAI error shape', fuzz.notOpenAiShape),
        ...listOffenders('No answer', fuzz.unanswered),
      );
    } finally {
      await gw.dispose();
      await redis.stop();
    }
  },
};
