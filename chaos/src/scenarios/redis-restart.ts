/**
 * Scenario 3, Redis killed and restarted empty: a tenant's budget is drained
 * to about 100 %, the suite's redis-server is killed -9 and started again
 * without its data, and the tenant's load goes on. Overspend (the records'
 * spend past the budget) may be no more than what the calls in flight at the
 * kill could cost (issue #13 item 3).
 */
import { chatBody, countBy, Load, type Exchange } from '../load.js';
import { fmt, pct, sleep, usd, type Scenario } from '../scenario.js';
import { Gateway, ledgerOf, postgresReachable, recordsMicros, RedisServer, type StoreKind } from '../stack.js';

const TENANT = 'drain';
const BUDGET_USD = 0.02;
const CLIENTS = 4;

export function redisRestartScenario(store: StoreKind): Scenario {
  const id = `redis-empty-${store}`;
  return {
    id,
    title: `Redis killed -9 and restarted empty under load (${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`,
    async run({ cfg, sim, logDir, log }, result) {
      if (store === 'postgres') {
        const ok = await postgresReachable(cfg.databaseUrl);
        if (ok !== true) throw new Error(ok);
      }
      const redis = await RedisServer.start(`redis-${id}`, cfg.redisServer, logDir);
      const gw = await Gateway.start(sim, { name: id, store, databaseUrl: cfg.databaseUrl, redis, logDir });
      try {
        await gw.setBudget(TENANT, BUDGET_USD);
        const { key } = await gw.createKey(TENANT);
        const load = new Load(
          () => gw.url,
          CLIENTS,
          (c, seq) => ({ path: '/v1/chat/completions', body: chatBody(`drain ${c}/${seq}: a short answer please`, { max_tokens: 24 }), headers: { authorization: `Bearer ${key}` }, stream: false, tag: 'drain' }),
          cfg.clientTimeoutMs,
        ).start();

        // Drained: the last 20 answers are all refusals for the budget (or 30 s passed).
        const drainedBy = Date.now() + 30_000;
        for (;;) {
          await sleep(100);
          const last = load.done.slice(-20);
          if (last.length === 20 && last.every((e) => e.answer.status === 402)) break;
          if (Date.now() > drainedBy) {
            result.notes.push('The budget was not drained within 30 s: the restart happened anyway.');
            break;
          }
        }
        const before = await gw.admin(`/admin/tenants/${TENANT}/budget`);
        const shareBefore = before.status === 200 ? Number(before.json().shareUsed) : NaN;
        const inFlight = load.running;
        const killedAt = Date.now();
        log(`${id}: budget ${pct(shareBefore, 1)} used; kill -9 of Redis with ${inFlight} calls in flight`);
        await redis.kill9();
        await sleep(500);
        await redis.restart();
        const restartedAt = Date.now();
        await sleep(cfg.redisAfterMs);
        load.stop();
        const done = await load.finished();
        await gw.flush();

        const records = await gw.records(TENANT);
        const budgetMicros = Math.round(BUDGET_USD * 1e6);
        const spent = recordsMicros(records);
        const spentAfter = recordsMicros(records.filter((x) => x.startedAt >= killedAt));
        const overspend = Math.max(0, spent - budgetMicros);
        const maxCall = Math.max(0, ...records.map((x) => Math.round(x.costUsd * 1e6)));
        const allowed = inFlight * maxCall;
        const client = redis.client();
        const ledger = await ledgerOf(client, gw.redisPrefix, TENANT);
        client.disconnect();
        const phase = (e: Exchange) => (e.startedAt < killedAt ? 'before the kill' : e.startedAt < restartedAt ? 'Redis down' : 'after the restart');
        const servedAfter = done.filter((e) => e.startedAt >= restartedAt && e.outcome === 'served').length;

        result.figures = {
          store,
          budgetMicros,
          shareUsedBeforeKill: shareBefore,
          inFlightAtKill: inFlight,
          maxCallMicros: maxCall,
          allowedOverspendMicros: allowed,
          recordsSpentMicros: spent,
          spentSinceKillMicros: spentAfter,
          overspendMicros: overspend,
          servedAfterRestart: servedAfter,
          ledgerSpentMicrosAtEnd: ledger.spentMicros,
          outcomes: Object.fromEntries(countBy(done, (e) => `${phase(e)}: ${e.answer.status}`)),
        };
        result.targets.push({
          target: 'overspend after an empty Redis restart no more than the in-flight requests',
          measured: `overspend ${usd(overspend)} (${pct(overspend, budgetMicros)} of the ${usd(budgetMicros)} budget; ${fmt(servedAfter)} calls served after the restart) vs ${inFlight} in flight × ${usd(maxCall)} = ${usd(allowed)}`,
          met: overspend <= allowed,
        });
        result.notes.push(
          `Budget ${usd(budgetMicros)}, ${pct(shareBefore, 1)} used before the kill; records' spend at the end ${usd(spent)} (${pct(spent, budgetMicros)}), ${usd(spentAfter)} of it booked after the kill; the ledger says ${usd(ledger.spentMicros)}.`,
          `Answers by phase: ${countBy(done, (e) => `${phase(e)} ${e.answer.status}${e.answer.status >= 400 ? ` ${e.why.split(' ').slice(1).join(' ')}` : ''}`).map(([k, n]) => `${k}: ${n}`).join(', ')}.`,
        );
      } finally {
        await gw.dispose();
        await redis.stop();
      }
    },
  };
}
