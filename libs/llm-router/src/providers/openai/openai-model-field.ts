/**
 * An OpenAI-format body or chunk with its top-level `model` field (`field`,
 * see modelField) replaced by `ownField`, without parsing and re-serializing
 * it: `undefined` when that exact spelling is not found (spaces around the
 * colon, say), so the caller serializes the parsed object instead. Inside a
 * JSON string a quote is escaped, so that spelling can only be a field; the
 * top-level one comes first.
 */
export function rewriteModelField(text: string, field: string, ownField: string): string | undefined {
  const at = text.indexOf(field);
  return at === -1 ? undefined : text.slice(0, at) + ownField + text.slice(at + field.length);
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
