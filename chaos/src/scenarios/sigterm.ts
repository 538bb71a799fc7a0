/**
 * Scenario 4, SIGTERM under load with slow clients: calls of every length in
 * flight (some far longer than the grace), idle keep-alive connections and
 * clients trickling their body. The process must exit within the drain bound
 * (LLM_SHUTDOWN_GRACE_MS plus a margin for the last writes), every call in
 * flight must end with an answer or an explicit error, and every answered
 * call must have its record after a restart (issue #13 item 13).
 */
import { connect, type Socket } from 'node:net';
import { chatBody, countBy, Load, simDirective } from '../load.js';
import { fmt, sleep, type Scenario } from '../scenario.js';
import { Gateway, UPSTREAM } from '../stack.js';

const TENANT = 'term';
const IDLE = 4;
const SLOW = 4;

/** A raw connection, and when it was closed by the server. */
function openSocket(port: number, first: string): { socket: Socket; closedAt: Promise<number> } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.resume();
  const closedAt = new Promise<number>((r) => socket.on('close', () => r(performance.now())));
  socket.write(first);
  return { socket, closedAt };
}

export const sigtermScenario: Scenario = {
  id: 'sigterm',
  title: 'SIGTERM under load with idle keep-alive and slow-body clients',
  async run({ cfg, sim, logDir, log }, result) {
    const grace = cfg.shutdownGraceMs;
    const bound = grace + cfg.drainMarginMs;
    const gw = await Gateway.start(sim, { name: 'sigterm', store: 'sqlite', databaseUrl: cfg.databaseUrl, logDir, env: { LLM_SHUTDOWN_GRACE_MS: String(grace) } });
    const trickles: NodeJS.Timeout[] = [];
    const sockets: Socket[] = [];
    try {
      const { key } = await gw.createKey(TENANT);
      // Each client keeps to one kind of call: short calls (the load), calls that end within the grace, and calls
      // that would outlast it (JSON and streams), so that every kind is in flight at the signal.
      const kinds: readonly (readonly [number, string, Record<string, unknown>])[] = [
        [6, 'short', { latencyMs: 20 }],
        [3, 'short stream', { chunks: 8, chunkDelayMs: 30 }],
        [2, 'within the grace', { latencyMs: Math.round(grace / 2) }],
        [2, 'past the grace', { latencyMs: grace * 3 }],
        [2, 'stream past the grace', { chunks: 30, chunkDelayMs: Math.round(grace / 10) }],
      ];
      const clientKinds = kinds.flatMap(([n, tag, fault]) => Array.from({ length: n }, () => [tag, fault] as const));
      const load = new Load(
        () => gw.url,
        clientKinds.length,
        (c, seq) => {
          const [tag, fault] = clientKinds[c]!;
          const stream = tag.includes('stream');
          return {
            path: '/v1/chat/completions',
            body: chatBody(`sigterm ${c}/${seq} ${simDirective(UPSTREAM.a, fault)}`, { max_tokens: 32, ...(stream ? { stream: true } : {}) }),
            headers: { authorization: `Bearer ${key}` },
            stream,
            tag,
          };
        },
        cfg.clientTimeoutMs,
      ).start();
      const idle = Array.from({ length: IDLE }, () => openSocket(gw.port, `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`));
      const slow = Array.from({ length: SLOW }, (_, i) => {
        const s = openSocket(gw.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"messages":[{"role":"user","content":"slow ${i}`);
        trickles.push(setInterval(() => s.socket.writable && s.socket.write('.'), 500));
        return s;
      });
      sockets.push(...[...idle, ...slow].map((s) => s.socket));
      await sleep(2_500);
      // No new call from here (a load balancer stops sending): what is in flight is what the drain must handle.
      load.stop();
      await sleep(30);
      const inFlightNow = load.inFlightNow();
      const inFlightSpecs = new Set(inFlightNow.map((x) => x.spec));
      const inFlight = countBy(inFlightNow, (x) => x.spec.tag);
      const inFlightCount = inFlightNow.length;
      const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) => gw.child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
      const t0 = performance.now();
      log(`sigterm: SIGTERM with ${inFlightCount} calls in flight, ${IDLE} idle and ${SLOW} slow-body connections (grace ${grace} ms)`);
      gw.child.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(grace + 60_000).then(() => undefined)]);
      if (exit === undefined) await gw.stop('SIGKILL');
      const exitMs = exit ? Math.round(exit.at - t0) : Infinity;
      const done = await load.finished();
      const closeMs = async (list: { closedAt: Promise<number> }[]) => Math.round(Math.max(...(await Promise.all(list.map((s) => Promise.race([s.closedAt, sleep(1000).then(() => Infinity)]))))) - t0);
      const idleClosedMs = await closeMs(idle);
      const slowClosedMs = await closeMs(slow);
      const atTerm = done.filter((e) => inFlightSpecs.has(e.spec));
      const explicit = atTerm.filter((e) => e.outcome === 'served' || e.outcome === 'refused');

      await gw.restart();
      await gw.flush();
      const recorded = new Set((await gw.records(TENANT)).map((x) => x.requestId));
      const answered = done.filter((e) => e.requestId !== undefined && (e.outcome === 'served' || e.outcome === 'refused'));
      const missing = answered.filter((e) => !recorded.has(e.requestId!));

      result.figures = {
        graceMs: grace,
        boundMs: bound,
        exitMs,
        exitCode: exit?.code ?? null,
        exitSignal: exit?.signal ?? null,
        inFlightAtSigterm: Object.fromEntries(inFlight),
        idleClosedMs,
        slowBodyClosedMs: slowClosedMs,
        endedAfterSigterm: Object.fromEntries(countBy(atTerm, (e) => `${e.spec.tag}: ${e.outcome} (${e.why})`)),
        answered: answered.length,
        missingRecords: missing.length,
      };
      result.targets.push(
        {
          target: `SIGTERM exit within the drain bound (grace ${fmt(grace)} ms + ${fmt(cfg.drainMarginMs)} ms for the last writes)`,
          measured: exit ? `exited after ${fmt(exitMs)} ms (code ${exit.code}${exit.signal ? `, ${exit.signal}` : ''}); idle connections closed after ${fmt(idleClosedMs)} ms, slow bodies after ${fmt(slowClosedMs)} ms` : `still running after ${fmt(grace + 60_000)} ms: killed`,
          met: exitMs <= bound,
        },
        {
          target: 'every call in flight at SIGTERM ends with an answer or an explicit error',
          measured: `${explicit.length} of ${atTerm.length} (${inFlightCount} in flight at the signal)`,
          met: explicit.length === atTerm.length,
        },
        { target: 'every answered request has its record after the restart', measured: `${missing.length} of ${fmt(answered.length)} missing`, met: missing.length === 0 && answered.length > 0 },
      );
      result.notes.push(
        `In flight at SIGTERM: ${inFlight.map(([k, n]) => `${k} ${n}`).join(', ')}.`,
        `How they ended: ${countBy(atTerm, (e) => `${e.spec.tag} → ${e.outcome} (${e.why})`).map(([k, n]) => `${k}: ${n}`).join('; ')}.`,
      );
    } finally {
      for (const t of trickles) clearInterval(t);
      for (const s of sockets) s.destroy();
      await gw.dispose();
    }
  },
};
