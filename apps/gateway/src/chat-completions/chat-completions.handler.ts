import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Observer } from 'rxjs';
import { isValidRequestId, LlmRouter, type ChatCompletionRequest, type DeferredCallback, type RoutedCompletion, type RouteOptions } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { V1Authenticator } from '../auth/v1-authenticator.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { CallbackPolicy } from '../deferred/callback-policy.js';
import { callbackOf, checkCallbackTarget } from '../deferred/callback-request.js';
import { writeDeferredResponse } from '../deferred/write-deferred-response.js';
import { writeErrorBody, writeErrorResponse } from '../errors/write-error-response.js';
import { parseChatRequest } from './parse-chat-request.js';
import { ClientGoneError, readJsonBody } from './read-json-body.js';
import { RouteAccessService } from './route-access.service.js';
import { RoutingExplainer } from './routing-explainer.service.js';
import { routingHeaderList } from './routing-headers.js';
import { subscribeUntilClientGone } from './until-client-gone.js';
import { writeSse } from './sse-writer.js';
import type { JsonBounds } from '../http/json-bounds.js';
import { ShutdownGrace } from '../http/shutdown-grace.js';

/**
 * `POST /v1/chat/completions`, OpenAI-compatible, on the raw node:http
 * request: the one route every LLM call takes skips the web framework's
 * routing, hooks and reply objects (see gateway-http-server.ts). Everything
 * the framework did for it is here: the API key (before the body is read), the
 * body limit and content types, and errors in the OpenAI shape.
 *
 * The caller's API key gives the tenant and the scopes; the traffic class comes
 * from the key's default, the `x-traffic-class` header or a class named as
 * `model`; the routing outcome (and the tenant's budget position) comes back in
 * `x-llm-*` headers.
 */
@Injectable()
export class ChatCompletionsHandler {
  private readonly authenticate: V1Authenticator['authenticate'];
  private readonly bodyLimit: number;
  private readonly bounds: JsonBounds;

  constructor(
    private readonly router: LlmRouter,
    private readonly access: RouteAccessService,
    private readonly explainer: RoutingExplainer,
    private readonly grace: ShutdownGrace,
    private readonly callbacks: CallbackPolicy,
    authenticator: V1Authenticator,
    config: ConfigService,
  ) {
    const gateway = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    this.bodyLimit = gateway.bodyLimitBytes;
    this.bounds = { maxDepth: gateway.jsonMaxDepth, maxValues: gateway.jsonMaxValues };
    this.authenticate = authenticator.authenticate;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    // The caller's valid id is echoed on every answer, refusals before routing included (an invalid one gets its 400 later).
    const callerId = req.headers['x-request-id'];
    if (typeof callerId === 'string' && isValidRequestId(callerId)) res.setHeader('x-request-id', callerId);
    const auth = this.authenticate(req.headers);
    if ('refusal' in auth) {
      // The body is never read for a caller without a valid key: a connection with one pending cannot carry another request.
      if (hasBody(req)) res.setHeader('connection', 'close');
      return writeErrorBody(res, auth.refusal);
    }
    const fail = (err: unknown) => this.fail(res, err);
    readJsonBody(
      req,
      this.bodyLimit,
      this.bounds,
      (body) => {
        // The body is in: everything from here runs in this tick, and anything it throws is answered as an error.
        try {
          this.serve(req, res, auth.principal, body, fail);
        } catch (err) {
          fail(err);
        }
      },
      fail,
    );
  }

  /** A call that failed before its answer started (refused, invalid, or its body unread), in the OpenAI shape. */
  private fail(res: ServerResponse, err: unknown): void {
    if (err instanceof ClientGoneError) return;
    // The rest of an oversized body is not read: this connection cannot carry another request.
    if (err instanceof HttpException && err.getStatus() === 413) res.setHeader('connection', 'close');
    writeErrorResponse(res, err);
  }

  private serve(req: IncomingMessage, res: ServerResponse, principal: Principal, body: unknown, fail: (err: unknown) => void): void {
    const request = parseChatRequest(body);
    // A dry run is the explanation (POST /v1/routing/explain): never an upstream call, never spend.
    // Any value counts: a header meant to prevent a call must never be read as permission to make one.
    if (req.headers['x-llm-dry-run'] !== undefined) {
      this.explainer
        .explain(principal, req.headers, request)
        .then((explanation) => this.writeExplanation(res, explanation))
        .catch(fail);
      return;
    }
    // Scope refusals first (resolve throws them), then the callback's.
    const resolved = this.access.resolve(principal, req.headers, request.model);
    if (request.stream) {
      const includeUsage = request.stream_options?.include_usage === true;
      return writeSse(res, this.router.stream$(request, resolved), includeUsage, writeErrorResponse, this.grace);
    }
    const callback = callbackOf(req.headers);
    if (callback === undefined) return this.complete(res, request, resolved, principal, undefined);
    // Where the callback goes is checked (its host resolved) before the call is routed.
    checkCallbackTarget(callback, this.callbacks.targets).then(() => this.complete(res, request, resolved, principal, callback), fail);
  }

  private complete(res: ServerResponse, request: ChatCompletionRequest, options: RouteOptions | undefined, principal: Principal, callback: DeferredCallback | undefined): void {
    subscribeUntilClientGone(this.router.completion$(request, options), res, new CompletionAnswer(res, (err) => this.failOrDefer(res, err, request, options, principal, callback)), this.grace);
  }

  /** A class that defers answers a failure that can wait with 202 and the deferred call (see DeferredCalls); any other failure as it is. */
  private failOrDefer(res: ServerResponse, err: unknown, request: ChatCompletionRequest, options: RouteOptions | undefined, principal: Principal, callback: DeferredCallback | undefined): void {
    const defer = { ...(callback !== undefined ? { callback } : {}), ...(principal.keyId !== null ? { caller: principal.keyId } : {}) };
    this.router.deferred.deferAfter(err, request, options ?? {}, defer).then(
      (call) => (call === undefined ? writeErrorResponse(res, err) : writeDeferredResponse(res, call)),
      () => writeErrorResponse(res, err), // the queue or store refused: the call fails as it would without deferral
    );
  }

  private writeExplanation(res: ServerResponse, explanation: object): void {
    const payload = JSON.stringify(explanation);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(payload)), 'x-llm-dry-run': 'explained' });
    res.end(payload);
  }
}

/**
 * Writes the completion once the routed call completes, in the same tick as
 * its answer: the router emits the call's routing record (which the records
 * journal keeps at once; on Redis under load, the response's end waits for the
 * pass's write: HeldEnds) before it completes, so a caller never holds an
 * answer whose record a crash could lose. The rest of the call's
 * bookkeeping (metrics, log, the store write) runs after the answer is on
 * its way.
 */
class CompletionAnswer implements Observer<RoutedCompletion> {
  private routed?: RoutedCompletion;

  constructor(
    private readonly res: ServerResponse,
    private readonly fail: (err: unknown) => void,
  ) {}

  next(value: RoutedCompletion): void {
    this.routed = value;
  }

  error(err: unknown): void {
    this.fail(err);
  }

  complete(): void {
    const res = this.res;
    if (!this.routed) return writeErrorResponse(res, new Error('the routed call completed without a result'));
    const { completion, outcome, json, costUsd } = this.routed;
    const payload = json ?? JSON.stringify(completion);
    const headers = routingHeaderList(outcome, costUsd, []);
    headers.push('content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(payload)));
    res.writeHead(200, headers);
    res.end(payload);
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
