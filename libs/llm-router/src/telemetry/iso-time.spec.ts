import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime } from './iso-time.js';

test('isoTime: the same text as Date#toISOString, for repeated and changing milliseconds', () => {
  const times = [0, 1_795_632_160_123, 1_795_632_160_123, 1_795_632_160_124, 1_795_632_160_123, 86_400_000.5, -1];
  for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString());
});

test('isoTime: the same text as Date#toISOString across days, leap years and the ends of its fast range', () => {
  const edges = [86_399_999, 86_400_000, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 2, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), -86_400_001];
  let seed = 7;
  const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  const randomTimes = Array.from({ length: 5000 }, () => Math.floor(random() * Date.UTC(2200, 0, 1)));
  for (const ms of [...edges, ...randomTimes]) assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
});
