import { ShutdownSignal } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import multipart from '@fastify/multipart';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { compilePolicyFile, type LlmRouterModuleOptions } from '@llm-router/nestjs';
import { AppModule } from './app.module.js';
import { ChatCompletionsHandler } from './chat-completions/chat-completions.handler.js';
import { defaultGatewayConfig, GATEWAY_CONFIG_KEY, gatewayConfigFromEnv, type GatewayConfig } from './config/gateway.config.js';
import { clientErrorHandler, frameworkErrors, MAX_PARAM_LENGTH } from './errors/framework-errors.js';
import { GatewayHttpServer } from './http/gateway-http-server.js';
import { HeldEnds } from './http/held-ends.js';
import { boundedJsonParser } from './http/bounded-json.parser.js';
import { installOversizedBodyHook } from './http/oversized-body.hook.js';
import { ShutdownGrace } from './http/shutdown-grace.js';

export interface CreateGatewayOptions extends Partial<GatewayConfig> {
  /** The router (policy object or file). Required unless `fromEnv`. */
  router?: LlmRouterModuleOptions;
  /**
   * Read every setting from the environment (and a `.env` file) through
   * `@nestjs/config`, validated: what `main.ts` does. Otherwise nothing is
   * read from the environment and unset fields take programmatic defaults:
   * authentication disabled, an in-memory SQLite store, no request log.
   */
  fromEnv?: boolean;
  /** false: silent; a logger: every line through it (main.ts: GatewayLogger); else Nest's default. */
  logger?: boolean | LoggerService;
}

/** Room in a file upload's body for the form around the file (boundaries, part headers, the purpose). */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** Builds the gateway app (not yet listening): used by main.ts, the tests and the benchmarks. */
export async function createGateway(options: CreateGatewayOptions): Promise<NestFastifyApplication> {
  const { router, fromEnv, logger, ...given } = options;
  const overrides = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<GatewayConfig>;
  let config: GatewayConfig;
  let configModule;
  if (fromEnv) {
    let parsed: GatewayConfig | undefined;
    configModule = await ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      validate: (raw) => {
        parsed = gatewayConfigFromEnv(raw);
        return { ...raw, [GATEWAY_CONFIG_KEY]: parsed };
      },
    });
    config = { ...parsed!, ...overrides };
    // Checked before Nest builds anything: a bad policy is reported once, as its list of paths, not also as a provider's stack.
    if (!router && config.policyFile !== undefined) compilePolicyFile(config.policyFile);
  } else {
    if (!router) throw new Error('createGateway: give `router` options, or `fromEnv: true`');
    config = defaultGatewayConfig(overrides);
    configModule = ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, ignoreEnvVars: true, load: [() => ({ [GATEWAY_CONFIG_KEY]: config })] });
  }

  const httpServer = new GatewayHttpServer(config);
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    serverFactory: httpServer.factory,
    frameworkErrors,
    clientErrorHandler,
    // request.ip: the client behind the listed proxies (X-Forwarded-For), else the connection's address.
    ...(config.trustProxy?.length ? { trustProxy: [...config.trustProxy] } : {}),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register({ config, configModule, router }), adapter, {
    logger: logger === false ? false : logger === true || logger === undefined ? ['error', 'warn', 'log'] : logger,
    abortOnError: false,
  });
  app.useBodyParser('application/json', { bodyLimit: config.bodyLimitBytes }, boundedJsonParser(app.getHttpAdapter().getInstance(), { maxDepth: config.jsonMaxDepth, maxValues: config.jsonMaxValues }));
  // File uploads (POST /v1/files): one file within LLM_FILE_LIMIT_BYTES, a few small fields.
  await app.register(multipart, { limits: { fileSize: config.fileLimitBytes, files: 1, fields: 8, fieldSize: 1024, parts: 10 } });
  installOversizedBodyHook(app.getHttpAdapter().getInstance(), config.bodyLimitBytes, { '/v1/files': config.fileLimitBytes + MULTIPART_OVERHEAD_BYTES });
  const grace = app.get(ShutdownGrace);
  app.getHttpAdapter().getInstance().addHook('preClose', (done) => {
    httpServer.drain(config.shutdownGraceMs, () => grace.end());
    done();
  });
  httpServer.holdEndsWith(app.get(HeldEnds));
  const chatCompletions = app.get(ChatCompletionsHandler);
  httpServer.serveChatCompletions((req, res) => chatCompletions.handle(req, res));
  // Every default signal but SIGHUP, which reloads the policy file (main.ts).
  app.enableShutdownHooks(Object.values(ShutdownSignal).filter((s) => s !== ShutdownSignal.SIGHUP));
  return app;
}
