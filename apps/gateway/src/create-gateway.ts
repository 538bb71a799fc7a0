import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LlmRouterModuleOptions } from '#llm-router';
import { AppModule } from './app.module.js';

export interface CreateGatewayOptions {
  router: LlmRouterModuleOptions;
  bodyLimitBytes?: number;
  logger?: boolean;
}

/** Builds the gateway app (not yet listening): used by main.ts, the tests and the benchmarks. */
export async function createGateway(options: CreateGatewayOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimitBytes ?? 4 * 1024 * 1024, keepAliveTimeout: 65_000 });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(options.router), adapter, {
    logger: options.logger === false ? false : ['error', 'warn', 'log'],
    abortOnError: false,
  });
  app.enableShutdownHooks();
  return app;
}
