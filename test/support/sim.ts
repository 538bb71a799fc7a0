/** Simulator set-up for the e2e tests: start, reset between tests, fault rules, a closed port, bounded waits. */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, type Fault, type FaultRule, type SimulatorHandle } from '../../apps/simulator/src/index.js';
import { up } from './policy.js';

export type { SimulatorHandle };

export function startSim(): Promise<SimulatorHandle> {
  return startSimulator({ port: 0 });
}

/** Clear every fault rule and zero the counters (inFlight is a gauge and survives). */
export function resetSim(sim: SimulatorHandle): void {
  sim.clearFaults();
  sim.resetStats();
}

/** A rule for one catalog model (matched by its upstream id); `times` absent = every request. */
export function faultOn(model: string, fault: Fault, times?: number, stream?: boolean): FaultRule {
  return {
    match: { model: up(model), ...(stream === undefined ? {} : { stream }) },
    ...(times === undefined ? {} : { times }),
    fault,
  };
}

/** Upstream calls per catalog model, exactly as the simulator counted them (models with 0 calls absent). */
export function callsByModel(sim: SimulatorHandle): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [model, n] of Object.entries(sim.stats().byModel)) out[model.replace(/^up-/, '')] = n;
  return out;
}

/** A TCP port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Poll `cond` until it holds; fail with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000, intervalMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() >= until) assert.fail(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(intervalMs);
  }
}

/** Let pending callbacks (record emission, socket closes) run. */
export async function settle(ms = 20): Promise<void> {
  await sleep(ms);
}
