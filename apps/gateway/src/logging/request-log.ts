import type { RoutingRecord } from '#llm-router';
import { redactOptional } from './redact.js';

export type LineSink = (chunk: string) => void;

/**
 * One JSON line per routed request, built from its routing record. Lines are
 * joined and written every `flushMs` (or at 64 KiB), not one syscall per
 * request. Nothing secret is in a record; free text is redacted anyway.
 */
export class RequestLog {
  private buffer = '';
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly sink: LineSink = (chunk) => void process.stdout.write(chunk),
    private readonly flushMs = 100,
  ) {}

  write(record: RoutingRecord, keyId: string | undefined): void {
    this.buffer += `${JSON.stringify(requestLogLine(record, keyId))}\n`;
    if (this.buffer.length >= 65_536) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer === '') return;
    const chunk = this.buffer;
    this.buffer = '';
    this.sink(chunk);
  }
}

export function requestLogLine(record: RoutingRecord, keyId: string | undefined): Record<string, unknown> {
  return {
    time: new Date().toISOString(),
    level: record.outcome === 'success' ? 'info' : 'warn',
    msg: 'llm.request',
    requestId: record.requestId,
    tenant: record.tenant ?? null,
    keyId: keyId ?? null,
    feature: record.feature ?? null,
    session: record.session ?? null,
    class: record.trafficClass,
    stream: record.stream,
    outcome: record.outcome,
    model: record.servedBy?.model ?? null,
    provider: record.servedBy?.provider ?? null,
    fallback: record.fallback,
    plannedRoute: record.plannedRoute,
    attempts: record.attempts.map((a) => ({
      model: a.model,
      outcome: a.outcome,
      ...(a.category ? { category: a.category } : {}),
      ...(a.status !== undefined ? { status: a.status } : {}),
      latencyMs: Math.round(a.latencyMs),
    })),
    errorCategory: record.errorCategory ?? null,
    error: redactOptional(record.errorMessage, 500),
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    costUsd: record.costUsd,
    latencyMs: Math.round(record.latencyMs),
    ...(record.firstChunkMs !== undefined ? { firstChunkMs: Math.round(record.firstChunkMs) } : {}),
    ...(record.budget ? { budget: { tier: record.budget.tier, shareUsed: record.budget.shareUsed, ...(record.budget.action ? { action: record.budget.action } : {}) } } : {}),
  };
}
