/**
 * Line charts drawn by hand in SVG. Why not a chart library: the console needs
 * one kind of chart (a few series over a dozen to a few dozen time buckets),
 * which is ~100 lines here; uPlot, the smallest good one, would add 45 KB and
 * a stylesheet to vendor and keep up to date, for nothing this needs. SVG
 * scales, prints, and puts each point's value in a <title> a screen reader
 * and a hover both read.
 */
import { el, svg } from './dom.js';

export interface Series {
  name: string;
  /** One value per bucket; null where there is nothing to show (no traffic). */
  values: (number | null)[];
}

export interface LineChartOptions {
  title: string;
  /** A label per bucket. */
  labels: string[];
  series: Series[];
  format: (value: number) => string;
  /** The y axis starts at 0 and reaches at least this. */
  minMax?: number;
}

const W = 640;
const H = 220;
const PAD = { left: 64, right: 12, top: 12, bottom: 28 };
export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export function lineChart({ title, labels, series, format, minMax = 0 }: LineChartOptions): HTMLElement {
  const figure = el('figure', { class: 'chart' }, el('figcaption', {}, title));
  const shown = series.filter((s) => s.values.some((v) => v !== null && v !== 0));
  if (shown.length === 0) {
    figure.append(el('p', { class: 'muted' }, 'No data in this window.'));
    return figure;
  }
  const max = Math.max(minMax, ...shown.flatMap((s) => s.values.filter((v): v is number => v !== null))) || 1;
  const n = labels.length;
  const x = (i: number) => PAD.left + (n <= 1 ? 0 : (i * (W - PAD.left - PAD.right)) / (n - 1));
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'plot' });
  for (const f of [0, 0.5, 1]) {
    chart.append(
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(max * f), y2: y(max * f), class: 'grid' }),
      svg('text', { x: PAD.left - 6, y: y(max * f) + 4, 'text-anchor': 'end', class: 'axis' }, format(max * f)),
    );
  }
  const step = Math.max(1, Math.ceil(n / 6));
  for (let i = 0; i < n; i += step) chart.append(svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'axis' }, labels[i]!));
  shown.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    // A gap (null) breaks the line: no traffic is not zero.
    let path = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) return void (pen = false);
      path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    chart.append(svg('path', { d: path, fill: 'none', stroke: color, 'stroke-width': 2 }));
    s.values.forEach((v, i) => {
      if (v !== null) chart.append(svg('circle', { cx: x(i), cy: y(v), r: 3, fill: color }, svg('title', {}, `${s.name} · ${labels[i]}: ${format(v)}`)));
    });
  });
  const legend = el('ul', { class: 'legend' });
  shown.forEach((s, k) => legend.append(el('li', {}, swatch(PALETTE[k % PALETTE.length]!), s.name)));
  figure.append(chart, legend);
  return figure;
}

function swatch(color: string): SVGSVGElement {
  return svg('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, svg('rect', { width: 10, height: 10, fill: color }));
}
