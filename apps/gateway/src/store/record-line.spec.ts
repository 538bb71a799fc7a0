import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineValues, recordLine, rowOfLine } from './record-line.js';
import { row } from './record-row.fixture.js';

test('a line holds storable text: U+0000 becomes U+FFFD in the line and in the values, whichever is made first', () => {
  const lineFirst = { ...row(1), errorMessage: 'x\u0000y', attempts: [{ ...row(1).attempts[0]!, code: 'c\u0000' }] };
  const valuesFirst = { ...lineFirst, attempts: [{ ...lineFirst.attempts[0]! }] };
  const line = recordLine(lineFirst);
  assert.equal(lineFirst.values, undefined, 'the line alone is kept');
  assert.ok(!line.includes('\\u0000'));
  assert.equal(rowOfLine(line)!.errorMessage, 'x\uFFFDy');
  assert.equal(rowOfLine(line)!.attempts[0]!.code, 'c\uFFFD');
  lineValues(valuesFirst);
  assert.equal(recordLine(valuesFirst), line);
});

test('text that only looks like an escaped NUL (a backslash, then u0000) is kept as it is', () => {
  const r = { ...row(2), errorMessage: 'path C:\\u0000\\file' };
  assert.equal(rowOfLine(recordLine(r))!.errorMessage, 'path C:\\u0000\\file');
});
