type Param = string | number | null;

/**
 * Text as every store can keep it. PostgreSQL's text type cannot hold U+0000
 * (`invalid byte sequence for encoding "UTF8": 0x00`), and free text reaches
 * the store from outside: upstream error messages and codes, key names,
 * feature and session labels. Each NUL becomes U+FFFD, on both stores alike,
 * so that one provider's odd message can never make a batch unwritable.
 */
export function storableText(text: string): string {
  return text.indexOf('\0') === -1 ? text : text.replaceAll('\0', '\uFFFD');
}

/** The same for a row of statement parameters, in place. */
export function storableParams<T extends Param[]>(params: T): T {
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (typeof p === 'string' && p.indexOf('\0') !== -1) params[i] = storableText(p);
  }
  return params;
}
