/**
 * JSON text of single values, byte for byte what `JSON.stringify` writes, for
 * text built by concatenation: no call into V8's serializer for what needs no
 * escape (its fixed cost per call, and per object its lookup of `toJSON`).
 */

/** What JSON escapes: a quote, a backslash, a control character, or half a surrogate pair (paired halves go the long way too: rare, and still right). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(value)` for a value that is not undefined (text is only scanned when it needs no escape). */
export function json(value: unknown): string {
  if (typeof value === 'string') return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
  if (typeof value === 'number') return Number.isFinite(value) ? `${value}` : 'null';
  return JSON.stringify(value);
}

/** `JSON.stringify(list)` for a list of text. */
export function jsonStrings(list: readonly unknown[]): string {
  let text = '[';
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item !== 'string') return JSON.stringify(list);
    text += i === 0 ? json(item) : `,${json(item)}`;
  }
  return `${text}]`;
}
