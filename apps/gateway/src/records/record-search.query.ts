import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { openAiError } from '../errors/openai-error.js';
import type { RecordCursor, RecordFilter } from '../store/gateway-store.js';
import { resolveRange } from '../usage/time-range.js';

const label = z.string().min(1).max(200).optional();

const searchSchema = z.strictObject({
  tenant: label,
  class: label,
  key: label,
  session: label,
  model: label,
  outcome: z.enum(['success', 'failure', 'aborted']).optional(),
  fallback: z.enum(['true', 'false']).optional(),
  category: label,
  period: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export interface RecordSearch {
  filter: RecordFilter;
  limit: number;
  cursor?: RecordCursor;
}

/**
 * `GET /admin/records?tenant=&class=&key=&session=&model=&outcome=&fallback=&category=&period=|from=&to=&limit=&cursor=`:
 * the window defaults to everything; a bad value is a 400 naming it.
 */
export function parseRecordSearch(query: Record<string, unknown>): RecordSearch {
  const parsed = searchSchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join('.') || null;
    throw new BadRequestException(openAiError(`Invalid value for '${param ?? 'query'}': ${issue.message}`, 'invalid_request_error', 'invalid_value', param));
  }
  const q = parsed.data;
  const range = resolveRange(q, 'month');
  const all = q.period === undefined && q.from === undefined && q.to === undefined;
  const filter: RecordFilter = { from: all ? 0 : range.from, to: all ? Number.MAX_SAFE_INTEGER : range.to };
  if (q.tenant !== undefined) filter.tenant = q.tenant;
  if (q.class !== undefined) filter.trafficClass = q.class;
  if (q.key !== undefined) filter.keyId = q.key;
  if (q.session !== undefined) filter.session = q.session;
  if (q.model !== undefined) filter.model = q.model;
  if (q.outcome !== undefined) filter.outcome = q.outcome;
  if (q.fallback !== undefined) filter.fallback = q.fallback === 'true';
  if (q.category !== undefined) filter.category = q.category;
  const search: RecordSearch = { filter, limit: q.limit };
  if (q.cursor !== undefined) search.cursor = decodeCursor(q.cursor);
  return search;
}

/** An opaque cursor: the last record's start time and row id. */
export function encodeCursor(cursor: RecordCursor): string {
  return Buffer.from(`${cursor.startedAt}.${cursor.id}`).toString('base64url');
}

function decodeCursor(text: string): RecordCursor {
  const [startedAt, id] = Buffer.from(text, 'base64url').toString('utf8').split('.').map(Number);
  if (!Number.isSafeInteger(startedAt) || !Number.isSafeInteger(id)) {
    throw new BadRequestException(openAiError("Invalid 'cursor': pass the next_cursor of the previous page as it is.", 'invalid_request_error', 'invalid_value', 'cursor'));
  }
  return { startedAt: startedAt!, id: id! };
}
