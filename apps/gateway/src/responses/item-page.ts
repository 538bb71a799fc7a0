import { z } from 'zod';
import { invalidValue } from '../errors/invalid-value.js';
import { listEnvelope } from '../http/cursor-page.js';
import type { ConversationItem } from './response.types.js';

const itemPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).optional(),
});

export type ItemPageQuery = z.output<typeof itemPageQuery>;

/** `?limit=&order=&after=` of an item list, as OpenAI's cursor pages take them; a bad value is a 400 naming it. */
export function parseItemPageQuery(query: unknown): ItemPageQuery {
  const parsed = itemPageQuery.safeParse(query ?? {});
  if (!parsed.success) throw invalidValue(parsed.error);
  return parsed.data;
}

/** One page of `items` (oldest first) in OpenAI's list shape: `order`, `limit` at most, after the item `after`. */
export function itemPage(items: readonly ConversationItem[], { limit, order, after }: ItemPageQuery) {
  const ordered = order === 'asc' ? items : [...items].reverse();
  const start = after === undefined ? 0 : ordered.findIndex((item) => item.id === after) + 1;
  // An unknown cursor starts nowhere: an empty page, not the first one again.
  const data = start === 0 && after !== undefined ? [] : ordered.slice(start, start + limit);
  return listEnvelope(data, start + data.length < ordered.length && data.length > 0);
}
