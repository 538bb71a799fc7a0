import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { isoTime } from '@llm-router/nestjs';
import { redact } from './redact.js';

/** `json`: one JSON object per line (the default off a terminal: production). `text`: Nest's human lines, for a terminal. */
export type LogFormat = 'json' | 'text';

/** Nest's level names as the request log writes them. */
const LEVELS: Record<LogLevel, string> = { log: 'info', error: 'error', warn: 'warn', debug: 'debug', verbose: 'trace', fatal: 'fatal' };

/** `LLM_LOG_FORMAT`, else JSON unless stdout is a terminal. */
export function logFormatFromEnv(env: NodeJS.ProcessEnv, isTty = process.stdout.isTTY === true): LogFormat {
  const value = env.LLM_LOG_FORMAT?.trim();
  if (value === undefined || value === '') return isTty ? 'text' : 'json';
  if (value === 'json' || value === 'text') return value;
  throw new Error(`Invalid gateway environment: LLM_LOG_FORMAT must be json or text, got "${value}"`);
}

/**
 * Every line the gateway logs, Nest's own included (bootstrap, exceptions,
 * shutdown): Nest's ConsoleLogger in its JSON mode, reshaped to the request
 * log's fields: `time` (ISO), `level` (`info`, `warn`, `error`), `context`,
 * `requestId` when the line is about one call (passed as `{ requestId }`),
 * `msg`, then any other structured fields. Nest's logger rather than pino:
 * the lines are few (start-up, shutdown, store trouble), every Nest line
 * already goes through it, and the hot path writes its own lines
 * (request-log.ts), so a second logging library would add a dependency and
 * nothing measurable. No colours; free text (messages, stacks, error fields)
 * is redacted like every other line.
 */
export class GatewayLogger extends ConsoleLogger {
  private revealed?: string;

  constructor(format: LogFormat, logLevels: LogLevel[] = ['fatal', 'error', 'warn', 'log']) {
    super({ json: format === 'json', colors: false, logLevels, structuredParams: true, flattenParams: true, redact: ['authorization', 'apiKey', 'password', 'token', 'secret'] });
  }

  /** The one secret lines may show: the dev-only admin key the quick start prints for the user to paste. */
  reveal(secret: string): void {
    this.revealed = secret;
  }

  protected override getJsonLogObject(message: unknown, options: Parameters<ConsoleLogger['getJsonLogObject']>[1]): ReturnType<ConsoleLogger['getJsonLogObject']> {
    const { level, timestamp, message: msg, context, requestId, pid: _pid, ...rest } = super.getJsonLogObject(message, options);
    const line: Record<string, unknown> = { time: isoTime(timestamp), level: LEVELS[level] ?? level, context: context ?? null };
    if (requestId !== undefined) line.requestId = requestId;
    line.msg = this.clean(msg);
    for (const [k, v] of Object.entries(rest)) line[k] = this.clean(v);
    return line as ReturnType<ConsoleLogger['getJsonLogObject']>;
  }

  protected override stringifyMessage(message: unknown, logLevel: LogLevel): string {
    return this.cleanText(super.stringifyMessage(message, logLevel));
  }

  /** Strings redacted at any depth (an error's message, stack and cause). */
  private clean(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.cleanText(value);
    if (depth > 4 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.clean(v, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.clean(v, depth + 1)]));
  }

  private cleanText(text: string): string {
    const shown = this.revealed;
    return shown !== undefined && text.includes(shown) ? text.split(shown).map(redact).join(shown) : redact(text);
  }
}
