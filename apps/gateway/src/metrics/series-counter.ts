import { Counter, type Registry } from 'prom-client';
import { seriesLabels } from './series-key.js';

/**
 * A Prometheus counter updated by series key: one Map lookup per update
 * instead of prom-client's label hashing and validation, which sorts and joins
 * the label set on every `inc` (six counters move on every routed call). The
 * totals reach prom-client when the registry is scraped.
 */
export class SeriesCounter<L extends string> {
  private readonly series = new Map<string, { readonly labels: Record<L, string>; value: number }>();
  private readonly labelNames: readonly L[];

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
    const series = this.series;
    this.labelNames = [...config.labelNames];
    new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: [...config.labelNames],
      registers: config.registers,
      collect() {
        this.reset();
        for (const s of series.values()) this.inc(s.labels, s.value);
      },
    });
  }

  /** `key` names the series (see seriesLabels); the labels are made from it once, when the series is new: an update allocates nothing. */
  inc(key: string, by = 1): void {
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: seriesLabels(this.labelNames, key), value: by });
  }
}
