/**
 * Scenario 5, a poisoned record on PostgreSQL: a provider's 400 whose message
 * holds U+0000 (which PostgreSQL text refuses), then N ordinary requests.
 * Every record must be written: the N, and the poisoned one (stored, or kept
 * in the dead-letter table), after a graceful stop (issue #13 item 1).
 */
import { call } from '../http.js';
import { chatBody, countBy, Load, simDirective } from '../load.js';
import { fmt, type Scenario } from '../scenario.js';
import { Gateway, postgresReachable, UPSTREAM } from '../stack.js';

const TENANT = 'poison';

export const poisonedScenario: Scenario = {
  id: 'poisoned',
  title: 'A poisoned record (U+0000 from a provider) on PostgreSQL, then N requests',
  async run({ cfg, sim, logDir, log }, result) {
    const ok = await postgresReachable(cfg.databaseUrl);
    if (ok !== true) throw new Error(ok);
    const gw = await Gateway.start(sim, { name: 'poisoned', store: 'postgres', databaseUrl: cfg.databaseUrl, logDir });
    try {
      const { key } = await gw.createKey(TENANT);
      const poison = simDirective(UPSTREAM.a, { status: 400, body: { error: { message: 'x\u0000y', type: 'invalid_request_error' } } });
      const first = await call(`${gw.url}/v1/chat/completions`, { body: chatBody(`poisoned ${poison}`), headers: { authorization: `Bearer ${key}` }, timeoutMs: cfg.clientTimeoutMs });
      const poisonedId = first.headers['x-llm-request-id'];
      const keyName = await gw.admin('/admin/keys', 'POST', { tenant: TENANT, name: 'a\u0000b' });
      let left = cfg.poisonedAfter;
      const load = new Load(
        () => gw.url,
        4,
        (c, seq) => (left-- > 0 ? { path: '/v1/chat/completions', body: chatBody(`after the poisoned one ${c}/${seq}`, { max_tokens: 16 }), headers: { authorization: `Bearer ${key}` }, stream: false, tag: 'after' } : undefined),
        cfg.clientTimeoutMs,
      ).start();
      const done = await load.finished();
      log(`poisoned: ${done.length} requests after the poisoned one; stopping the gateway (SIGTERM) to read the store`);
      await gw.stop('SIGTERM');

      const records = await gw.records(TENANT);
      const recorded = new Set(records.map((x) => x.requestId));
      const withId = done.filter((e) => e.requestId !== undefined);
      const missing = withId.filter((e) => !recorded.has(e.requestId!));
      const dead = await gw.deadRecords();
      let poisonedKept = typeof poisonedId === 'string' && recorded.has(poisonedId) ? 'in the records' : undefined;
      if (!poisonedKept && typeof poisonedId === 'string' && dead !== undefined) {
        const rows = await gw.query<{ n: string | number }>('SELECT COUNT(*) AS n FROM llm_dead_records WHERE request_id = $1', [poisonedId]);
        if (Number(rows[0]?.n ?? 0) > 0) poisonedKept = 'in the dead-letter table';
      }

      result.figures = {
        poisonedStatus: first.status,
        poisonedRequestId: poisonedId ?? null,
        poisonedKept: poisonedKept ?? 'lost',
        after: done.length,
        afterWithRequestId: withId.length,
        afterMissing: missing.length,
        deadRecords: dead ?? null,
        keyNamedWithNulStatus: keyName.status,
        outcomes: Object.fromEntries(countBy(done, (e) => `${e.answer.status}`)),
      };
      result.targets.push(
        {
          target: 'every record written after a poisoned one',
          measured: `${fmt(withId.length - missing.length)} of ${fmt(withId.length)} written; the poisoned one (HTTP ${first.status}): ${poisonedKept ?? 'lost'}`,
          met: missing.length === 0 && withId.length === cfg.poisonedAfter && poisonedKept !== undefined,
        },
        { target: 'a key named with U+0000 is created (not a 500)', measured: `POST /admin/keys {"name":"a\\u0000b"}: HTTP ${keyName.status}`, met: keyName.status === 201 },
      );
      if (dead !== undefined) result.notes.push(`Dead-letter rows: ${dead}.`);
    } finally {
      await gw.dispose();
    }
  },
};
