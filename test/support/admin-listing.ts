/** Checks shared by the admin listings' tests (GET /admin/deferred, GET /admin/batches). */
import assert from 'node:assert/strict';
import type { Res } from '../gateway-support/harness.js';

/** Each query is an OpenAI-shaped 400 naming its parameter (null: an unknown one, named or not). */
export async function assertBadQueries(get: (query: string) => Promise<Res>, cases: readonly (readonly [string, string | null])[]): Promise<void> {
  for (const [query, param] of cases) {
    const res = await get(query);
    assert.equal(res.status, 400, `${query}: ${res.text}`);
    assert.equal(res.json.error.type, 'invalid_request_error');
    assert.equal(typeof res.json.error.message, 'string');
    if (param !== null) assert.equal(res.json.error.param, param, query);
    assert.ok('code' in res.json.error);
  }
}

/** The ids of a listing's page, in order. */
export const ids = (res: Res): string[] => (res.json.data as { id: string }[]).map((d) => d.id);

/** A 200 page in OpenAI's list shape holding exactly `expected`, in order, its first and last ids named. */
export function assertListPage(res: Res, expected: readonly string[], hasMore = false): void {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.object, 'list');
  assert.equal(res.json.has_more, hasMore);
  assert.deepEqual(ids(res), expected);
  assert.equal(res.json.first_id, expected[0]);
  assert.equal(res.json.last_id, expected.at(-1));
}
