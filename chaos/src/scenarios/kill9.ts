/**
 * Scenario 2, kill -9 under load, then a restart on the same store: every
 * request a client saw answered must have its routing record, and the Redis
 * ledger's spend for the tenant must equal the records' (issue #13 item 2).
 */
import { Rng } from '../fuzz.js';
import { chatBody, countBy, Load, simDirective } from '../load.js';
import { fmt, sleep, usd, type Scenario } from '../scenario.js';
import { Gateway, ledgerOf, postgresReachable, recordsMicros, RedisServer, UPSTREAM, type StoreKind } from '../stack.js';

const TENANT = 'k9';

export function kill9Scenario(store: StoreKind): Scenario {
  const id = `kill9-${store}`;
  return {
    id,
    title: `kill -9 under load, restart (${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} + Redis)`,
    async run({ cfg, sim, logDir, log }, result) {
      if (store === 'postgres') {
        const ok = await postgresReachable(cfg.databaseUrl);
        if (ok !== true) throw new Error(ok);
      }
      const redis = await RedisServer.start(`redis-kill9-${store}`, cfg.redisServer, logDir);
      const gw = await Gateway.start(sim, { name: `kill9-${store}`, store, databaseUrl: cfg.databaseUrl, redis, logDir });
      const ledgerClient = redis.client();
      const signal = cfg.killSignal;
      if (signal !== 'SIGKILL') result.notes.push(`Control run (CHAOS_KILL_SIGNAL): the gateway got ${signal}, not SIGKILL.`);
      try {
        await gw.setBudget(TENANT, 1000);
        const keys: string[] = [];
        for (let i = 0; i < cfg.killClients; i++) keys.push((await gw.createKey(TENANT, { name: `client-${i}` })).key);
        const r = new Rng(cfg.seed + 2);
        // Calls of 0 to 200 ms upstream, a third of them streamed: some are always in flight.
        const load = new Load(
          () => gw.url,
          cfg.killClients,
          (c, seq) => {
            const stream = r.chance(0.3);
            const fault = stream ? { chunks: 4, chunkDelayMs: r.pick([0, 10, 40]) } : { latencyMs: r.pick([0, 5, 20, 50, 100, 200]) };
            return {
              path: '/v1/chat/completions',
              body: chatBody(`kill -9 load ${c}/${seq} ${simDirective(UPSTREAM.a, fault)}`, { max_tokens: 32, ...(stream ? { stream: true } : {}) }),
              headers: { authorization: `Bearer ${keys[c]!}` },
              stream,
              tag: stream ? 'stream' : 'json',
            };
          },
          cfg.clientTimeoutMs,
        ).start();
        await sleep(cfg.killAfterMs);
        // No new call once the process is gone (they would only count refused connections); those in flight stay.
        load.stop();
        const inFlight = load.running;
        log(`${id}: ${signal} with ${inFlight} calls in flight, ${load.done.length} done`);
        await gw.stop(signal);
        const done = await load.finished();
        await gw.restart();
        await gw.flush();
        const records = await gw.records(TENANT);
        const recorded = new Set(records.map((x) => x.requestId));
        const answered = done.filter((e) => e.requestId !== undefined && (e.outcome === 'served' || e.outcome === 'refused'));
        const missing = answered.filter((e) => !recorded.has(e.requestId!));
        const ledger = await ledgerOf(ledgerClient, gw.redisPrefix, TENANT);
        const recordsSpend = recordsMicros(records);
        const clientsSawMicros = answered.reduce((s, e) => s + Math.round(Number(e.answer.headers['x-llm-cost-usd'] ?? 0) * 1e6), 0);
        const diff = ledger.spentMicros - recordsSpend;

        result.figures = {
          store,
          clients: cfg.killClients,
          killAfterMs: cfg.killAfterMs,
          inFlightAtKill: inFlight,
          exchanges: done.length,
          answered: answered.length,
          missingRecords: missing.length,
          missingStreams: missing.filter((e) => e.spec.stream).length,
          records: records.length,
          ledgerSpentMicros: ledger.spentMicros,
          ledgerReservedMicrosAfterRestart: ledger.reservedMicros,
          recordsSpentMicros: recordsSpend,
          jsonCostSeenByClientsMicros: clientsSawMicros,
          outcomes: Object.fromEntries(countBy(done, (e) => e.outcome)),
        };
        result.targets.push(
          {
            target: '0 records missing for answered requests after kill -9',
            measured: `${fmt(missing.length)} of ${fmt(answered.length)} answered requests have no record (${inFlight} in flight at the kill)`,
            met: missing.length === 0 && answered.length > 0,
          },
          {
            target: 'ledger = records after the restart',
            measured: `ledger ${usd(ledger.spentMicros)} vs records ${usd(recordsSpend)} (${diff >= 0 ? '+' : ''}${fmt(diff)} µ$)`,
            met: diff === 0 && ledger.keys > 0,
          },
        );
        result.notes.push(
          `Outcomes seen by the clients: ${countBy(done, (e) => `${e.outcome} (${e.why})`).map(([k, n]) => `${k}: ${n}`).join(', ')}.`,
          `Reservations still held in the ledger after the restart: ${usd(ledger.reservedMicros)} (the killed calls' leases run out after the class deadline plus a minute).`,
          ...(missing.length > 0 ? [`Missing records, the first 5: ${missing.slice(0, 5).map((e) => `${e.requestId} (${e.spec.tag}, answered ${new Date(e.endedAt).toISOString().slice(11, 23)})`).join(', ')}.`] : []),
        );
      } finally {
        ledgerClient.disconnect();
        await gw.dispose();
        await redis.stop();
      }
    },
  };
}
