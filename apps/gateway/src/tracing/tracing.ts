/** When the gateway exports traces: an OTLP endpoint or a traces exporter named in the environment, and the SDK not disabled. */
import { Logger } from '@nestjs/common';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

/** The SDK's own diagnostics (an export that failed, a bad variable) as gateway log lines, `OTEL_LOG_LEVEL` (default `warn`) and above. */
function diagnosticsToLog(env: NodeJS.ProcessEnv): void {
  const logger = new Logger('OpenTelemetry');
  const text = (message: string, args: unknown[]) => [message, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)))].join(' ');
  const sink: DiagLogger = {
    error: (m, ...a) => logger.error(text(m, a)),
    warn: (m, ...a) => logger.warn(text(m, a)),
    info: (m, ...a) => logger.log(text(m, a)),
    debug: (m, ...a) => logger.debug(text(m, a)),
    verbose: (m, ...a) => logger.verbose(text(m, a)),
  };
  const level = DiagLogLevel[(env.OTEL_LOG_LEVEL?.trim().toUpperCase() ?? 'WARN') as keyof typeof DiagLogLevel] ?? DiagLogLevel.WARN;
  diag.setLogger(sink, { logLevel: level, suppressOverrideMessage: true });
}

export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporters) return exporters.split(',').some((e) => e.trim() !== 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

export interface Tracing {
  /** What the log says about it: the exporter and where it sends. */
  readonly description: string;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * The OpenTelemetry SDK for the gateway's traces, started only when
 * `tracingEnabled`; otherwise nothing is loaded or registered and the
 * router's tracing stays a no-op. Configured the standard way, by the
 * `OTEL_*` variables the SDK reads itself: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `..._TRACES_ENDPOINT`), `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` by
 * default, `http/json`, `grpc`), `OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_SERVICE_NAME` (default here `llm-router-gateway`),
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_PROPAGATORS`,
 * `OTEL_BSP_*`. Traces only: metrics stay on `/metrics` (Prometheus) and
 * logs on stdout, so the SDK's metrics and logs exporters are `none` unless
 * their variables say otherwise. Started before the app is built.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingEnabled(env)) return undefined;
  // Loaded only now: a gateway without tracing never loads the SDK's modules.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: 'llm-router-gateway' }),
    instrumentations: [],
    // No context manager (null: the SDK's "do not register"): the router gives every span its parent
    // explicitly, and the default AsyncLocalStorage one, once the exporter enters it (it does, to keep
    // its own requests untraced), hooks every promise and timer of the process (see the README's
    // request context: about 2 % of the gateway's CPU) for nothing.
    contextManager: null as unknown as undefined,
  });
  // After the SDK's constructor, which sets its console logger when OTEL_LOG_LEVEL is set: every line stays JSON.
  diagnosticsToLog(env);
  sdk.start();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const description = `traces: ${env.OTEL_TRACES_EXPORTER ?? 'otlp'}${endpoint ? ` to ${endpoint}` : ''} (${env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf'})`;
  return { description, shutdown: () => sdk.shutdown() };
}
