// First: Nest's loggers build their date formats as @nestjs/common loads (see the module).
import { endDateTimeFormatDeferral } from './logging/deferred-date-time-format.js';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { SimulatorHandle } from '../../simulator/src/index.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from './config/gateway.config.js';
import { applyHeapGrowth, heapGrowthFromEnv } from './config/heap-growth.js';
import { trimHeap } from './config/heap-trim.js';
import { IdleHeapTrim, idleTrimFromEnv } from './config/idle-heap-trim.js';
import { startupWarnings } from './config/startup-warnings.js';
import { createGateway } from './create-gateway.js';
import { PolicyReloadService } from './policy/policy-reload.service.js';
import { GatewayLogger, logFormatFromEnv, type LogFormat } from './logging/gateway-logger.js';
import { describeStore } from './store/create-store.js';
import { startTracing } from './tracing/tracing.js';

// Every static import has loaded: later code gets the real Intl.DateTimeFormat.
endDateTimeFormatDeferral();

// Every line through one logger, from the first (JSON unless LLM_LOG_FORMAT=text or a terminal).
let logFormat: LogFormat = 'json';
let logFormatError: unknown;
try {
  logFormat = logFormatFromEnv(process.env);
} catch (err) {
  logFormatError = err;
}
const gatewayLogger = new GatewayLogger(logFormat);
Logger.overrideLogger(gatewayLogger);
const logger = new Logger('Gateway');

async function main(): Promise<void> {
  if (logFormatError !== undefined) throw logFormatError;
  // Before the app is built: V8 reads it at every full collection from here on.
  const heapGrowth = applyHeapGrowth(heapGrowthFromEnv(process.env));
  const idleTrim = idleTrimFromEnv(process.env);
  // Before the app: the router's spans go to the SDK registered here (OTEL_* variables), or nowhere.
  const tracing = await startTracing(process.env);
  const app = await createGateway({ fromEnv: true, logger: gatewayLogger });
  // The server closed, the last calls ended: their spans are exported before the process exits.
  if (tracing) app.getHttpAdapter().getInstance().addHook('onClose', () => tracing.shutdown());
  const config = app.get(ConfigService).getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
  let sim: SimulatorHandle | undefined;
  if (config.embeddedSimulator) {
    // Loaded only when it runs: a gateway in front of real providers keeps none of its code in memory.
    const { startSimulator } = await import('../../simulator/src/index.js');
    sim = await startSimulator({ port: config.simulatorPort });
    logger.log(`simulated provider on ${sim.url} (fault injection: POST ${sim.url}/_sim/faults)`);
  }
  // Building the app grew the young generation to its largest and left garbage in the old one: handed back before the first request.
  await trimHeap();
  if (idleTrim.quietMs !== undefined) {
    const trim = new IdleHeapTrim({ quietMs: idleTrim.quietMs });
    trim.start();
    app.getHttpAdapter().getInstance().addHook('onClose', async () => trim.stop());
  }
  await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  // The bound port, not the configured one (PORT=0 takes any free port).
  const address = app.getHttpServer().address();
  const base = `http://${config.host}:${typeof address === 'object' && address !== null ? address.port : config.port}`;
  logger.log(`gateway on ${base} (policy: ${config.policyFile}; store: ${describeStore(config.store)})`);
  if (tracing) logger.log(tracing.description);
  logger.log(`memory: ${heapGrowth}; ${idleTrim.description}`);
  for (const warning of startupWarnings(config)) logger.warn(warning);
  if (config.adminKey === undefined) {
    logger.log('admin API disabled: set LLM_ADMIN_KEY (at least 16 characters) to create API keys and set budgets');
  } else if (config.adminKeyGenerated) {
    // The dev quick start only: no LLM_ADMIN_KEY and the embedded simulator. A new one on every start, shown unredacted to be pasted.
    gatewayLogger.reveal(config.adminKey);
    logger.warn(
      [
        'DEV ONLY: no LLM_ADMIN_KEY was set, so this admin key was generated for this run (set LLM_ADMIN_KEY in production):',
        `    export ADMIN_KEY=${config.adminKey}`,
        '  create an API key:',
        `    curl -s ${base}/admin/keys -H "authorization: Bearer $ADMIN_KEY" -H 'content-type: application/json' -d '{"tenant":"acme"}'`,
      ].join('\n'),
    );
  }
  // SIGHUP: the policy file read again, through the same path as PUT /admin/policy.
  const policy = app.get(PolicyReloadService);
  process.on('SIGHUP', () => {
    policy.reloadFile('signal', `SIGHUP (pid ${process.pid})`).then(
      (r) => logger.log(r.changed ? `SIGHUP: policy version ${r.version.id}` : `SIGHUP: policy unchanged (${r.version.id})`),
      (err: unknown) => logger.error(`SIGHUP: the policy was not changed:\n${err instanceof Error ? err.message : String(err)}`),
    );
  });
  // enableShutdownHooks(): SIGTERM/SIGINT close the app (records flushed, store closed), then the process exits.
  process.once('beforeExit', () => void sim?.close());
}

main().catch((err: unknown) => {
  // A bad policy or environment stops start-up with the offending paths; nothing else is worth a stack.
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && (err.name === 'PolicyValidationError' || /^Invalid gateway environment|could not open the/.test(message))) logger.fatal(message);
  else logger.fatal(message, err instanceof Error ? err.stack : undefined);
  process.exit(1);
});
