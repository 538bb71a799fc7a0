import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Observable } from 'rxjs';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { CompiledProvider } from '../../policy/compiled-policy.js';
import type { Transport, TransportEvent, TransportRequest } from './transport.interface.js';

/**
 * Pooled keep-alive HTTP client on node:http. Global fetch costs several times
 * more CPU per proxied request on this path (web streams, Request objects).
 */
export class NodeHttpTransport implements Transport {
  private readonly agents = new Map<string, HttpAgent>();

  send({ provider, request, firstByteTimeoutMs }: TransportRequest): Observable<TransportEvent> {
    return new Observable<TransportEvent>((subscriber) => {
      const https = provider.protocol === 'https:';
      const body = request.body;
      let finished = false;
      /** The response body was read to its end: the socket can go back to the pool. */
      let drained = false;
      let req: ClientRequest | undefined;
      const fail = (failure: UpstreamFailure) => {
        if (finished) return;
        finished = true;
        clearTimeout(firstByteTimer);
        // An attempt given up on (timeout, broken body) must not keep the upstream generating.
        req?.destroy();
        subscriber.error(failure);
      };
      const firstByteTimer = setTimeout(
        () => fail(new UpstreamFailure({ category: 'transient', code: 'first_byte_timeout', message: `${provider.name}: no response within ${firstByteTimeoutMs} ms` })),
        firstByteTimeoutMs,
      );
      const options = {
        agent: this.agentFor(provider),
        hostname: provider.hostname,
        port: provider.port,
        path: request.path,
        method: 'POST',
        headers: { ...request.headers, 'content-length': Buffer.byteLength(body) },
      };
      req = (https ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        clearTimeout(firstByteTimer);
        if (finished) return;
        subscriber.next({ type: 'head', status: res.statusCode ?? 0, headers: res.headers });
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          if (!finished) subscriber.next({ type: 'data', text });
        });
        res.on('end', () => {
          drained = true;
          if (finished) return;
          finished = true;
          subscriber.complete();
        });
        res.on('aborted', () => fail(connectionFailure(provider, Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }))));
        res.on('error', (err) => fail(connectionFailure(provider, err)));
      });
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const connectTimer = setTimeout(() => {
          fail(new UpstreamFailure({ category: 'transient', code: 'connect_timeout', message: `${provider.name}: connect timed out after ${provider.timeouts.connectMs} ms` }));
          req?.destroy();
        }, provider.timeouts.connectMs);
        socket.once('connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
      req.on('error', (err) => fail(connectionFailure(provider, err)));
      req.end(body);

      return () => {
        clearTimeout(firstByteTimer);
        finished = true;
        // Destroying the socket is what stops the provider generating (and billing) tokens.
        if (!drained) req?.destroy();
      };
    });
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(provider: CompiledProvider): HttpAgent {
    let agent = this.agents.get(provider.name);
    if (!agent) {
      const options = { keepAlive: true, maxSockets: provider.maxSockets, maxFreeSockets: Math.min(provider.maxSockets, 64), scheduling: 'lifo' as const };
      agent = provider.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
      this.agents.set(provider.name, agent);
    }
    return agent;
  }
}

/** Connection refused, reset, DNS and socket errors: all transient. */
function connectionFailure(provider: CompiledProvider, err: Error & { code?: string }): UpstreamFailure {
  return new UpstreamFailure({
    category: 'transient',
    code: err.code ?? 'connection_error',
    message: `${provider.name}: ${err.code ?? 'connection error'}: ${err.message}`,
  });
}
