import { trimHeap } from './heap-trim.js';

/*
 * After a load V8 keeps the young generation and the old one at the size the
 * load needed: at rest after one, about 160-195 MB resident, 120-135 once
 * trimmed (trimHeap). Off unless asked for (LLM_IDLE_TRIM_SECONDS): the first
 * requests after a trim cost more CPU (the cause not isolated: not the code V8
 * optimizes again, about as much either way). In three alternating pairs of
 * fresh processes (after 15 s at rest, 32 connections), the first two seconds
 * of load cost 750-1,060 and 470-860 µs of CPU per request against 380-610 and
 * 330-370 untrimmed; from the third second on, the same.
 */

/** Below this share of one core (the process's user + system time over a check), the process counts as quiet: at rest it spends under 1 %. */
const QUIET_CPU_SHARE = 0.02;

/** How often the process's CPU time is read: the only work the trim does while the gateway serves. */
const CHECK_EVERY_MS = 5_000;

export interface IdleTrimSetting {
  /** undefined: never trimmed. */
  readonly quietMs?: number;
  /** The start-up log line. */
  readonly description: string;
}

/** `LLM_IDLE_TRIM_SECONDS`: unset or 0, never. */
export function idleTrimFromEnv(env: NodeJS.ProcessEnv): IdleTrimSetting {
  const raw = env.LLM_IDLE_TRIM_SECONDS?.trim();
  const seconds = raw === undefined || raw === '' ? 0 : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(seconds)) {
    throw new Error(`Invalid gateway environment: LLM_IDLE_TRIM_SECONDS must be a whole number of seconds (0: never), got "${raw}"`);
  }
  if (seconds === 0) return { description: 'the heap is trimmed at start-up only (LLM_IDLE_TRIM_SECONDS trims it at rest too)' };
  return { quietMs: seconds * 1000, description: `the heap is trimmed once the process has been quiet for ${seconds} s (LLM_IDLE_TRIM_SECONDS)` };
}

export interface IdleHeapTrimOptions {
  readonly quietMs: number;
  /** For tests: the collection, the process's CPU time (µs) and the clock (ms). */
  readonly trim?: () => Promise<unknown>;
  readonly cpuMicros?: () => number;
  readonly now?: () => number;
}

const processCpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * Trims the heap once per quiet spell: after the process has spent less than
 * 2 % of a core for `quietMs`, and not again until it has been busy. Start it
 * after a trim (main.ts trims before listening). Nothing runs per request:
 * a timer reads the process's CPU time every few seconds.
 */
export class IdleHeapTrim {
  private readonly trim: () => Promise<unknown>;
  private readonly cpuMicros: () => number;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private lastCpu = 0;
  private lastAt = 0;
  private quietSince = 0;
  private trimmed = true;
  private trimming = false;

  constructor(private readonly options: IdleHeapTrimOptions) {
    this.trim = options.trim ?? trimHeap;
    this.cpuMicros = options.cpuMicros ?? processCpuMicros;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.baseline();
    this.quietSince = this.lastAt;
    this.timer = setInterval(() => void this.check(), Math.min(CHECK_EVERY_MS, this.options.quietMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One reading (the timer's); resolves once a trim it started has run. */
  async check(): Promise<void> {
    if (this.trimming) return;
    const cpu = this.cpuMicros();
    const at = this.now();
    const busy = cpu - this.lastCpu > QUIET_CPU_SHARE * (at - this.lastAt) * 1000;
    this.lastCpu = cpu;
    this.lastAt = at;
    if (busy) {
      this.quietSince = at;
      this.trimmed = false;
      return;
    }
    if (this.trimmed || at - this.quietSince < this.options.quietMs) return;
    this.trimmed = true;
    this.trimming = true;
    try {
      await this.trim();
    } finally {
      this.trimming = false;
      // The collection's own CPU time is not traffic.
      this.baseline();
    }
  }

  private baseline(): void {
    this.lastCpu = this.cpuMicros();
    this.lastAt = this.now();
  }
}
