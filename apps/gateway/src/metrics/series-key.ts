/**
 * A series key: its label values, in `labelNames`' order, joined with
 * `\u0000` (a character no label value holds). The label set of a key, made
 * once per series.
 */
export function seriesLabels<L extends string>(labelNames: readonly L[], key: string): Record<L, string> {
  const values = key.split('\u0000');
  if (values.length !== labelNames.length) throw new Error(`series key with ${values.length} label values, ${labelNames.length} expected`);
  const labels = {} as Record<L, string>;
  labelNames.forEach((name, i) => (labels[name] = values[i]!));
  return labels;
}

/**
 * Series keys made once per label-value sequence and kept: a key joined anew
 * on every update is a new string that the series' Map must flatten and hash
 * in full (about 2 of the 2.1 µs one routed call's metrics took); a kept key's
 * hash is kept with it. `with(value)` is this key with one more label value;
 * `key` is its text. Label values are bounded sets (GatewayMetrics bounds
 * them), so the tree is too.
 */
export class SeriesKey {
  private children?: Map<string, SeriesKey>;

  private constructor(private readonly joined: string | undefined) {}

  /** The key of no label value, whose `with` starts a key. */
  static root(): SeriesKey {
    return new SeriesKey(undefined);
  }

  with(value: string): SeriesKey {
    const children = (this.children ??= new Map());
    let child = children.get(value);
    if (child === undefined) children.set(value, (child = new SeriesKey(this.joined === undefined ? value : `${this.joined}\u0000${value}`)));
    return child;
  }

  /** The label values joined (of a key with at least one). */
  get key(): string {
    return this.joined!;
  }
}
