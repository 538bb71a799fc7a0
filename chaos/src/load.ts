/**
 * Closed-loop load: `clients` simulated clients, each on its own keep-alive
 * connection, each sending its next request as soon as the last one ended,
 * until `stop()` or until `next` has nothing more. Every exchange is kept with
 * its outcome and the routing record id the gateway gave it.
 */
import type { Agent } from 'node:http';
import { call, clientAgent, outcomeOf, type Answer, type Outcome } from './http.js';

export interface Spec {
  path: string;
  body: unknown;
  headers: Record<string, string>;
  stream: boolean;
  /** What the request was meant to meet (a fault kind, a phase): for the breakdowns. */
  tag: string;
}

export interface Exchange {
  spec: Spec;
  answer: Answer;
  startedAt: number;
  endedAt: number;
  outcome: Outcome;
  why: string;
  /** `x-llm-request-id`: the id of the routing record, when the gateway gave one. */
  requestId?: string;
}

export class Load {
  readonly done: Exchange[] = [];
  private readonly inFlight = new Set<{ spec: Spec; startedAt: number }>();
  private readonly agents: Agent[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly base: () => string,
    private readonly clients: number,
    /** The next request of a client, or undefined when it is done. */
    private readonly next: (client: number, seq: number) => Spec | undefined,
    private readonly timeoutMs: number,
    private readonly onDone?: (e: Exchange) => void,
  ) {}

  start(): this {
    for (let c = 0; c < this.clients; c++) {
      const agent = clientAgent();
      this.agents.push(agent);
      this.loops.push(this.loop(c, agent));
    }
    return this;
  }

  /** No new request from now on (those in flight go on). */
  stop(): void {
    this.stopped = true;
  }

  get running(): number {
    return this.inFlight.size;
  }

  /** The requests in flight now, by tag. */
  inFlightNow(): { spec: Spec; startedAt: number }[] {
    return [...this.inFlight];
  }

  /** Every client has ended (stopped, or out of requests) and its last exchange is in. */
  async finished(): Promise<Exchange[]> {
    await Promise.all(this.loops);
    for (const a of this.agents) a.destroy();
    return this.done;
  }

  private async loop(client: number, agent: Agent): Promise<void> {
    for (let seq = 0; !this.stopped; seq++) {
      const spec = this.next(client, seq);
      if (spec === undefined) return;
      const entry = { spec, startedAt: Date.now() };
      this.inFlight.add(entry);
      const answer = await call(this.base() + spec.path, { body: spec.body, headers: spec.headers, agent, timeoutMs: this.timeoutMs });
      this.inFlight.delete(entry);
      const { outcome, why } = outcomeOf(answer, spec.stream);
      const requestId = answer.headers['x-llm-request-id'];
      const e: Exchange = { spec, answer, startedAt: entry.startedAt, endedAt: Date.now(), outcome, why, ...(typeof requestId === 'string' ? { requestId } : {}) };
      this.done.push(e);
      this.onDone?.(e);
    }
  }
}

/** Counts of `items` by `key`, largest first, as "key n" pairs. */
export function countBy<T>(items: readonly T[], key: (t: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

/** A chat request body with one user message. */
export const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({ messages: [{ role: 'user', content }], ...extra });

/** A `[[sim {...}]]` directive for the simulator, applied to one upstream model. */
export const simDirective = (upstreamModel: string, fault: Record<string, unknown>) => `[[sim ${JSON.stringify({ model: upstreamModel, ...fault })}]]`;
