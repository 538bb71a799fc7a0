/**
 * The processes a benchmark run measures, started side by side on 127.0.0.1:
 * the simulator, the llm-router gateway (embedded configuration, and the
 * production one when Redis and PostgreSQL are on), optionally the fallback
 * gateway, Portkey, the Nest floor (nest-floor.ts) and the bare node:http proxy; each with its credentials.
 */
import { DIST, ROOT } from './config.js';
import { INSPECTABLE } from './inspector.js';
import { credentials, gatewayEnv, productionGatewayEnv, writePolicies } from './our-gateway.js';
import { ensurePortkey, portkeyStart } from './portkey.js';
import { startOnFreePort, stopService, type Service } from './processes.js';
import type { ProductionServices } from './production.js';
import type { Endpoints } from './scenarios.js';

export interface Fleet {
  readonly sim: Service;
  /** The bench's policy; `ours` started on `openCircuitPolicy` when the fleet runs the open-circuit scenario. */
  readonly policy: string;
  readonly openCircuitPolicy: string;
  readonly fallbackPolicy: string;
  /** Every proxy process by its service name (ours, oursFallback?, prod?, portkey, bare). */
  readonly services: Record<string, Service>;
  readonly endpoints: Endpoints;
  stop(): Promise<void>;
}

export const startSimulator = (): Promise<Service> =>
  startOnFreePort((port) => ({ name: 'simulator', port, args: [DIST.simulator], cwd: ROOT, env: { SIM_PORT: String(port), SIM_HOST: '127.0.0.1' }, readyPath: '/_sim/health' }));

/** Starts an llm-router gateway on the bench's policy: embedded (SQLite) or, with `shared`, the production configuration. */
export function startGateway(name: string, policyFile: string, shared?: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<Service> {
  return startOnFreePort((port) => {
    const env = shared ? productionGatewayEnv(port, policyFile, name, shared) : gatewayEnv(port, policyFile, name);
    // A gateway boots in seconds; a machine busy with other work can stretch that far.
    return { name, port, args: [DIST.gateway], cwd: ROOT, env: { ...env, ...extraEnv }, readyPath: '/health/live', readyTimeoutMs: 90_000 };
  });
}

/** `fallback`: the fallback and open-circuit scenarios' gateways (the default `ours` then holds its opened circuit for an hour). */
export async function startFleet(log: (s: string) => void, o: { fallback: boolean; production?: ProductionServices }): Promise<Fleet> {
  const portkeyEntry = ensurePortkey(log);
  const sim = await startSimulator();
  const { policy, openCircuitPolicy, fallbackPolicy } = writePolicies(sim.url);
  // Each proxy can be asked for a full collection and its memory (inspector.ts); the flag alone costs nothing.
  const inspectable = { NODE_OPTIONS: INSPECTABLE };
  const [ours, oursFallback, prod, portkey, nest, bare] = await Promise.all([
    startGateway('ours', o.fallback ? openCircuitPolicy : policy, undefined, inspectable),
    o.fallback ? startGateway('ours-fallback', fallbackPolicy, undefined, inspectable) : undefined,
    o.production ? startGateway('prod', policy, o.production.env('prod'), inspectable) : undefined,
    startOnFreePort((port) => {
      const p = portkeyStart(portkeyEntry, port);
      return { ...p, env: { ...p.env, ...inspectable } };
    }),
    startOnFreePort((port) => ({ name: 'nest', port, args: [DIST.nestFloor], cwd: ROOT, env: { PORT: String(port), UPSTREAM: `${sim.url}/openai/v1`, ...inspectable }, readyPath: '/' })),
    startOnFreePort((port) => ({ name: 'bare', port, args: [DIST.bareProxy], cwd: ROOT, env: { PORT: String(port), UPSTREAM: `${sim.url}/openai/v1`, ...inspectable }, readyPath: '/' })),
  ]);
  const services: Record<string, Service> = { ours, portkey, nest, bare, ...(oursFallback ? { oursFallback } : {}), ...(prod ? { prod } : {}) };
  log(
    `simulator ${sim.url}, llm-router ${ours.url}${oursFallback ? ` (+ ${oursFallback.url} for the fallback scenario)` : ''}` +
      `${prod ? `, ${prod.url} in the production configuration` : ''}, Portkey ${portkey.url}, bare proxy ${bare.url}`,
  );
  const oursHeaders = await credentials(ours, log);
  const endpoints: Endpoints = {
    sim: sim.url,
    ours: ours.url,
    oursFallback: oursFallback?.url ?? ours.url,
    portkey: portkey.url,
    nest: nest.url,
    bare: bare.url,
    oursHeaders,
    oursFallbackHeaders: oursFallback ? await credentials(oursFallback, log) : oursHeaders,
    ...(prod ? { prod: { url: prod.url, headers: await credentials(prod, log) } } : {}),
  };
  return {
    sim,
    policy,
    openCircuitPolicy,
    fallbackPolicy,
    services,
    endpoints,
    async stop() {
      await Promise.all(Object.values(services).map((s) => stopService(s)));
      await stopService(sim);
    },
  };
}
