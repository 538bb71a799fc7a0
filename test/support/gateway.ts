/** A real gateway (Nest + Fastify) on 127.0.0.1 with an ephemeral port. */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LlmRouter, type PolicyDocument, type RoutingRecord } from '#llm-router';
import { createGateway } from '../../apps/gateway/src/create-gateway.js';

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
