/**
 * DOM building for the console. Text goes in as text nodes and attribute
 * values through setAttribute: nothing here ever parses a string as markup
 * (no innerHTML), so upstream error messages, key names and session ids are
 * shown as what they are.
 */

export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: any) => void)>;

function apply(node: Element, attrs: Attrs, children: Child[]): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') node.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) node.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  node.append(...nodes(children));
}

/** The children as nodes: strings and numbers become text nodes; null, undefined and false are left out. */
export function nodes(children: Child[]): Node[] {
  const out: Node[] = [];
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    out.push(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return out;
}

/** An HTML element; `on…` attributes become event listeners. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  apply(node, attrs, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (charts are drawn by hand: see chart.ts). */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag) as SVGElementTagNameMap[K];
  apply(node, attrs, children);
  return node;
}

export function replace(node: Element, ...children: Child[]): void {
  node.replaceChildren(...nodes(children));
}
