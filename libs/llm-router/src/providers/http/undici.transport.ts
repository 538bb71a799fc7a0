import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';
import { Pool, type Dispatcher } from 'undici';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { CompiledProvider } from '../../policy/compiled-policy.js';
import type { Transport, TransportEvent, TransportRequest } from './transport.interface.js';

/**
 * Upstream HTTP on undici: one keep-alive connection pool per provider, each
 * request dispatched with bare callbacks (no streams, no Response objects).
 * On this path it costs about a third of the CPU of a node:http Agent request,
 * and far less than global fetch (web streams, Request objects).
 */
export class UndiciTransport implements Transport {
  private readonly pools = new Map<string, Pool>();

  send({ provider, request, firstByteTimeoutMs }: TransportRequest): Observable<TransportEvent> {
    return new Observable<TransportEvent>((subscriber) => {
      let finished = false;
      let controller: Dispatcher.DispatchController | undefined;
      let decoder: StringDecoder | undefined;
      const fail = (failure: UpstreamFailure) => {
        if (finished) return;
        finished = true;
        clearTimeout(firstByteTimer);
        // An attempt given up on (timeout, broken body) must not keep the upstream generating.
        controller?.abort(failure);
        subscriber.error(failure);
      };
      const firstByteTimer = setTimeout(
        () => fail(new UpstreamFailure({ category: 'transient', code: 'first_byte_timeout', message: `${provider.name}: no response within ${firstByteTimeoutMs} ms` })),
        firstByteTimeoutMs,
      );
      this.poolFor(provider).dispatch(
        // Timeouts are the router's (first byte here, attempt and deadline above): undici's own are off.
        { path: request.path, method: 'POST', headers: request.headers, body: request.body, headersTimeout: 0, bodyTimeout: 0 },
        {
          onRequestStart: (c) => {
            controller = c;
            if (finished) c.abort(new Error('the caller went away'));
          },
          onResponseStart: (_c, status, headers) => {
            if (status < 200) return; // 1xx: informational, the real head follows
            clearTimeout(firstByteTimer);
            if (finished) return;
            subscriber.next({ type: 'head', status, headers });
          },
          onResponseData: (_c, chunk) => {
            if (finished) return;
            // A UTF-8 character may span two reads.
            const text = (decoder ??= new StringDecoder('utf8')).write(chunk);
            if (text !== '') subscriber.next({ type: 'data', text });
          },
          onResponseEnd: () => {
            if (finished) return;
            finished = true;
            const rest = decoder?.end();
            if (rest) subscriber.next({ type: 'data', text: rest });
            subscriber.complete();
          },
          onResponseError: (_c, err) => fail(connectionFailure(provider, err)),
        },
      );
      return () => {
        clearTimeout(firstByteTimer);
        if (finished) return;
        finished = true;
        // Closing the connection is what stops the provider generating (and billing) tokens.
        controller?.abort(new Error('the caller went away'));
      };
    });
  }

  close(): void {
    for (const pool of this.pools.values()) void pool.destroy();
    this.pools.clear();
  }

  private poolFor(provider: CompiledProvider): Pool {
    let pool = this.pools.get(provider.name);
    if (!pool) {
      pool = new Pool(new URL(provider.baseUrl).origin, {
        connections: provider.maxSockets,
        connectTimeout: provider.timeouts.connectMs,
      });
      this.pools.set(provider.name, pool);
    }
    return pool;
  }
}

/** Connection refused, reset, connect timeouts and socket errors: all transient. */
function connectionFailure(provider: CompiledProvider, err: Error): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  const own = (err as { code?: string }).code;
  if (own === 'UND_ERR_CONNECT_TIMEOUT') {
    return new UpstreamFailure({ category: 'transient', code: 'connect_timeout', message: `${provider.name}: connect timed out after ${provider.timeouts.connectMs} ms` });
  }
  // undici wraps socket errors (UND_ERR_SOCKET); the system code, when there is one, says more.
  const code = (err.cause as { code?: string } | undefined)?.code ?? own ?? 'connection_error';
  return new UpstreamFailure({ category: 'transient', code, message: `${provider.name}: ${code}: ${err.message}` });
}
