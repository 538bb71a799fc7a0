import { Agent, request } from 'undici';
import { CallbackTargetRefused, CallbackTargets } from './callback-targets.js';

/** A delivery's end: answered 2xx; refused for where it would go (not tried again); or not delivered (tried again later). */
export type CallbackDelivery = 'delivered' | 'refused' | 'failed';

/**
 * POSTs callbacks to the targets `targets` lets through: a literal address
 * is checked before connecting, a host name as it is resolved for the
 * connection (CallbackTargets.lookup), so what is connected to is what was
 * checked. Redirects are not followed (a 3xx is not delivered).
 */
export class CallbackPoster {
  private readonly agent: Agent;
  private closed?: Promise<void>;

  constructor(private readonly targets: CallbackTargets = CallbackTargets.ANY) {
    this.agent = new Agent({ connect: { lookup: targets.lookup } });
  }

  /** Never throws: an error (no answer, `signal` aborted) is `failed`. */
  async post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<CallbackDelivery> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return 'refused';
    }
    if (this.targets.refusal(target) !== undefined) return 'refused';
    try {
      const res = await request(url, { method: 'POST', body, headers, signal, dispatcher: this.agent });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300 ? 'delivered' : 'failed';
    } catch (err) {
      const refused = err instanceof CallbackTargetRefused || (err as { cause?: unknown } | null)?.cause instanceof CallbackTargetRefused;
      return refused ? 'refused' : 'failed';
    }
  }

  /** Closes its connections; once (the router may be closed more than once). */
  close(): Promise<void> {
    this.closed ??= this.agent.close();
    return this.closed;
  }
}
