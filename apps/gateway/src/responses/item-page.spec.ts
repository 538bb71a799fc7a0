import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpException } from '@nestjs/common';
import { itemPage, parseItemPageQuery } from './item-page.js';
import type { ConversationItem } from './response.types.js';

const items: ConversationItem[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ type: 'message', id, role: 'user', content: id }));
const ids = (page: { data: ConversationItem[] }) => page.data.map((item) => item.id);

test('newest first by default, in pages that continue after the last id', () => {
  const first = itemPage(items, parseItemPageQuery({ limit: '2' }));
  assert.deepEqual(ids(first), ['e', 'd']);
  assert.deepEqual([first.first_id, first.last_id, first.has_more], ['e', 'd', true]);
  const last = itemPage(items, parseItemPageQuery({ limit: '2', after: 'b' }));
  assert.deepEqual(ids(last), ['a']);
  assert.equal(last.has_more, false);
  assert.deepEqual(ids(itemPage(items, parseItemPageQuery({ order: 'asc', after: 'c' }))), ['d', 'e']);
});

test('an unknown cursor is an empty page, not the first again; bad values are a 400 naming the parameter', () => {
  const page = itemPage(items, parseItemPageQuery({ after: 'zzz' }));
  assert.deepEqual([page.data, page.first_id, page.has_more], [[], null, false]);
  for (const [query, param] of [[{ limit: '0' }, 'limit'], [{ limit: 'x' }, 'limit'], [{ order: 'up' }, 'order']] as const) {
    assert.throws(() => parseItemPageQuery(query), (err: HttpException) => err.getStatus() === 400 && (err.getResponse() as { error: { param: string } }).error.param === param);
  }
});
