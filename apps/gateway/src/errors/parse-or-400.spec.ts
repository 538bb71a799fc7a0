import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { parseOr400 } from './parse-or-400.js';

const schema = z.object({ items: z.array(z.object({ id: z.string() })), limit: z.number().int().optional() });

test('a field inside a list is named as OpenAI names a parameter, the same as on the chat and Responses routes', () => {
  assert.throws(
    () => parseOr400(schema, { items: [{ id: 'a' }, { id: 7 }] }),
    (err: unknown) => {
      assert.ok(err instanceof BadRequestException);
      const body = err.getResponse() as { error: { code: string; param: string; message: string } };
      assert.equal(body.error.code, 'invalid_value');
      assert.equal(body.error.param, 'items[1].id');
      assert.match(body.error.message, /^Invalid value for 'items\[1\]\.id': /);
      return true;
    },
  );
});

test('a valid value comes back parsed; a missing body is an empty object', () => {
  assert.deepEqual(parseOr400(schema, { items: [], limit: 3 }), { items: [], limit: 3 });
  assert.throws(() => parseOr400(schema, undefined), (err: unknown) => (err as BadRequestException).getResponse() !== undefined && ((err as BadRequestException).getResponse() as { error: { param: string } }).error.param === 'items');
});
