/** A real gateway (Nest + Fastify) on 127.0.0.1 with an ephemeral port. */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LlmRouter, type PolicyDocument, type RoutingRecord } from '@llm-router/nestjs';
import { createGateway } from '../../apps/gateway/src/index.js';
import { buildPolicy, fastClass, type ClassDoc, type PolicyOptions } from './policy.js';

/**
 * A policy the gateway accepts: its controllers' decorators name the classes
 * `support-chat` and `batch-summaries`, so both exist (defaults given here
 * unless `classes` brings its own). The first of `classes` is the default class.
 */
export function gatewayPolicy(simUrl: string, classes: Record<string, ClassDoc>, options: PolicyOptions = {}): PolicyDocument {
  return buildPolicy(
    simUrl,
    {
      ...classes,
      'support-chat': classes['support-chat'] ?? fastClass('critical', ['oai-premium', 'ant-premium'], { qualityFloor: { tier: 'premium' } }),
      'batch-summaries': classes['batch-summaries'] ?? fastClass('batch', ['oai-standard', 'ant-economy']),
    },
    { defaultClass: Object.keys(classes)[0], ...options },
  );
}

export interface TestGateway {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly router: LlmRouter;
  readonly records: RoutingRecord[];
  close(): Promise<void>;
}

export async function startGateway(policy: PolicyDocument): Promise<TestGateway> {
  const app = await createGateway({ router: { policy }, logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const router = app.get(LlmRouter);
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  return { app, url: `http://127.0.0.1:${port}`, router, records, close: () => app.close() };
}
