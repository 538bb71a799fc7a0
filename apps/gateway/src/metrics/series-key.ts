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
