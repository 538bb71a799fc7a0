import { BadRequestException } from '@nestjs/common';
import { periodWindow, type BudgetPeriod } from '@llm-router/nestjs';
import { openAiError } from '../errors/openai-error.js';
import type { TimeRange } from '../store/gateway-store.js';

export interface ResolvedRange extends TimeRange {
  /** `month`, `week`, `day` (the current UTC one), `all`, or `custom`. */
  name: string;
}

const PERIODS = new Set(['month', 'week', 'day']);

/**
 * The reporting window from `?period=month|week|day|all` (the current UTC
 * period) or `?from=...&to=...` (ISO dates or times; `to` defaults to now).
 */
export function resolveRange(query: Record<string, unknown>, fallback: BudgetPeriod = 'month', now = Date.now()): ResolvedRange {
  const from = typeof query.from === 'string' && query.from !== '' ? query.from : undefined;
  const to = typeof query.to === 'string' && query.to !== '' ? query.to : undefined;
  if (from !== undefined || to !== undefined) {
    const start = from === undefined ? 0 : Date.parse(from);
    const end = to === undefined ? now + 1 : Date.parse(to);
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
      throw new BadRequestException(
        openAiError("Invalid 'from'/'to': give ISO dates or times (e.g. 2026-11-01 or 2026-11-01T12:00:00Z) with from before to.", 'invalid_request_error', 'invalid_range', from !== undefined ? 'from' : 'to'),
      );
    }
    return { name: 'custom', from: start, to: end };
  }
  const period = typeof query.period === 'string' && query.period !== '' ? query.period : fallback;
  if (period === 'all') return { name: 'all', from: 0, to: now + 86_400_000 };
  if (!PERIODS.has(period)) {
    throw new BadRequestException(openAiError("Invalid 'period': one of month, week, day, all.", 'invalid_request_error', 'invalid_period', 'period'));
  }
  const window = periodWindow(period as BudgetPeriod, now);
  return { name: period, from: window.start, to: window.end };
}

export function rangeView(range: ResolvedRange): { name: string; from: string; to: string } {
  return { name: range.name, from: new Date(range.from).toISOString(), to: new Date(Math.min(range.to, 8.64e15)).toISOString() };
}
