import type { BudgetPeriod } from './budget.types.js';

/** One budget window, UTC. `key` names it in the ledger, so spend resets at the boundary by itself. */
export interface PeriodWindow {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

const DAY_MS = 86_400_000;

/** The last window computed per period: nearly every call falls in it (checked before every budgeted call). */
const lastWindow = new Map<BudgetPeriod, PeriodWindow>();

/** The window of `period` that contains `now` (epoch ms). Weeks start on Monday (ISO). */
export function periodWindow(period: BudgetPeriod, now: number): PeriodWindow {
  const last = lastWindow.get(period);
  if (last !== undefined && now >= last.start && now < last.end) return last;
  const window = computeWindow(period, now);
  lastWindow.set(period, window);
  return window;
}

function computeWindow(period: BudgetPeriod, now: number): PeriodWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === 'month') {
    return { key: `${y}-${pad(m + 1)}`, start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  }
  const dayStart = Date.UTC(y, m, d.getUTCDate());
  if (period === 'day') {
    return { key: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}`, start: dayStart, end: dayStart + DAY_MS };
  }
  const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
  const start = dayStart - weekday * DAY_MS;
  const s = new Date(start);
  return { key: `${s.getUTCFullYear()}-W${pad(s.getUTCMonth() + 1)}${pad(s.getUTCDate())}`, start, end: start + 7 * DAY_MS };
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
