/**
 * An OpenAI-format body or chunk with its top-level `model` field (`field`,
 * see modelField) replaced by `ownField`, without parsing and re-serializing
 * it: `undefined` when that exact spelling is not found (spaces around the
 * colon, say) or not found at the top level, so the caller serializes the
 * parsed object instead. Inside a JSON string a quote is escaped, so that
 * spelling can only be a field.
 */
export function rewriteModelField(text: string, field: string, ownField: string): string | undefined {
  const at = text.indexOf(field);
  return at === -1 || opensBefore(text, at) ? undefined : text.slice(0, at) + ownField + text.slice(at + field.length);
}

/**
 * Whether an object or an array opens before `at`, past the text's own brace:
 * the match may then be a nested `model` (a vendor's field), not the top-level
 * one. A brace or bracket inside a string before it counts too: that text is
 * parsed, which is only slower (the providers seen put `model` before `choices`).
 */
function opensBefore(text: string, at: number): boolean {
  const brace = text.indexOf('{', 1);
  if (brace !== -1 && brace < at) return true;
  const bracket = text.indexOf('[');
  return bracket !== -1 && bracket < at;
}

/** Fields made so far: a provider names few models, and every answer and chunk asks (a JSON.stringify each). */
const fields = new Map<string, string>();
const MAX_FIELDS = 256;

/** `"model":"<id>"`, as it is spliced in. */
export function modelField(model: string): string {
  let field = fields.get(model);
  if (field === undefined) {
    field = `"model":${JSON.stringify(model)}`;
    // Bounded: an upstream that names a new model in every answer cannot grow it.
    if (fields.size >= MAX_FIELDS) fields.clear();
    fields.set(model, field);
  }
  return field;
}
