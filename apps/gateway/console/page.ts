/** What a console page is to the shell (main.ts), and the pieces every page uses. */
import { el, type Child } from './dom.js';

export interface MountedPage {
  /** Fetch and redraw; the shell calls it again `everyMs` after it settles (paused while the tab is hidden). */
  refresh(): Promise<void>;
  everyMs: number;
}

/** Builds a page into `root` (emptied by the shell). */
export type PageFactory = (root: HTMLElement) => MountedPage;

export function heading(text: string, ...extra: Child[]): HTMLElement {
  return el('div', { class: 'page-head' }, el('h1', { tabindex: -1 }, text), ...extra);
}

/** A table with a header row; a row is its cells, or a row made by `row()`. */
export function table(headers: string[], rows: (Child[] | HTMLTableRowElement)[], attrs: Record<string, string> = {}): HTMLTableElement {
  return el(
    'table',
    attrs,
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => (Array.isArray(r) ? row({}, r) : r))),
  );
}

/** A table row with attributes (data-*, tabindex, listeners) and its cells. */
export function row(attrs: Parameters<typeof el>[1], cells: Child[]): HTMLTableRowElement {
  return el('tr', attrs, ...cells.map((c) => el('td', {}, c)));
}

/** A labelled form field. */
export function field(label: string, input: HTMLElement): HTMLElement {
  return el('label', {}, el('span', {}, label), input);
}

/** A coloured word: a circuit state, a budget tier, an outcome. */
export function badge(text: string, kind: string): HTMLElement {
  return el('span', { class: `badge badge-${kind}` }, text);
}

export function empty(text: string): HTMLElement {
  return el('p', { class: 'muted empty' }, text);
}
