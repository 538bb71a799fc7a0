/**
 * OpenAI's cursor pages (`after`/`limit`): a page is read as `limit + 1`
 * rows, the extra one telling whether more follow, and answered in the list
 * envelope, whose `last_id` is the next page's `after`.
 */
export interface Page<T> {
  readonly rows: T[];
  readonly hasMore: boolean;
}

/** The `limit` rows to show of those read as `limit + 1`, and whether more follow. */
export function pageOf<T>(rows: readonly T[], limit: number): Page<T> {
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** OpenAI's list envelope over one page of objects. */
export function listEnvelope<T extends { readonly id?: string }>(data: T[], hasMore: boolean) {
  return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}
