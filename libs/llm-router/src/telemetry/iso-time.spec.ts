import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime } from './iso-time.js';

test('isoTime: the same text as Date#toISOString, for repeated and changing milliseconds', () => {
  const times = [0, 1_795_632_160_123, 1_795_632_160_123, 1_795_632_160_124, 1_795_632_160_123, 86_400_000.5, -1];
  for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString());
});
