import type { IncomingHttpHeaders } from 'node:http';
import type { Observable } from 'rxjs';
import type { CompiledProvider } from '../../policy/compiled-policy.js';
import type { UpstreamRequest } from '../provider-adapter.interface.js';

/** The response head, then its body as text, as it arrives. */
export type TransportEvent =
  | { readonly type: 'head'; readonly status: number; readonly headers: IncomingHttpHeaders }
  | { readonly type: 'data'; readonly text: string };

export interface TransportRequest {
  readonly provider: CompiledProvider;
  readonly request: UpstreamRequest;
  /** Fail the call if no response head arrives within this time. */
  readonly firstByteTimeoutMs: number;
  /** The answer is a stream: the call stays open for as long as it lasts (what it holds, it holds that long). */
  readonly stream?: boolean;
}

/**
 * Sends one upstream HTTP request. Unsubscribing aborts it. Connection-level
 * failures arrive as categorized UpstreamFailures.
 */
export interface Transport {
  send(request: TransportRequest): Observable<TransportEvent>;
  close(): void;
}

export const LLM_TRANSPORT = Symbol('LLM_TRANSPORT');
