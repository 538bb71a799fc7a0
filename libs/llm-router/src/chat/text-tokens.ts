/**
 * Tokens a text is likely to cost, as a fraction (summed, rounded up once):
 * 4 characters per token in Latin scripts, about 1.6 in the two-byte UTF-8
 * scripts (Greek, Cyrillic, Hebrew, Arabic) and 1 in the three-byte ones
 * (CJK, Indic, ...), where a characters / 4 rule undercounts by four times:
 * too small a budget reservation, and a prompt passed to a model whose
 * context cannot hold it. Each byte beyond the first of a character adds
 * 0.375: exact for ASCII and CJK, a little over for two-byte scripts.
 * `Buffer.byteLength` is native: a small fraction of the JSON parse the
 * request body already cost.
 */
export function textTokens(text: string): number {
  return text.length / 4 + 0.375 * (Buffer.byteLength(text, 'utf8') - text.length);
}
