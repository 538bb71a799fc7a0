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
