import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompiledPolicy, RoutingRecord } from '@llm-router/nestjs';
import { toRecordRow } from './record-row.js';

const policy = { models: new Map([['m-a', { provider: { name: 'p-a' } }]]) } as unknown as CompiledPolicy;

/** The detail as it was made when the stored rows and journal lines of today's fleet were written: one object, JSON.stringify. */
function detailAsStored(record: RoutingRecord): string {
  const detail: Record<string, unknown> = { plannedRoute: record.plannedRoute, excluded: record.excluded };
  if (record.qualityFloor) detail.qualityFloor = record.qualityFloor;
  if (record.requestedModel !== undefined) detail.requestedModel = record.requestedModel;
  if (record.policyVersion !== undefined) detail.policyVersion = record.policyVersion;
  if (record.needs !== undefined) detail.needs = record.needs;
  if (record.budget?.reservedUsd !== undefined) {
    detail.budget = { reservedUsd: record.budget.reservedUsd, overshootUsd: record.budget.overshootUsd ?? 0, remainingUsd: record.budget.remainingUsd ?? null };
  }
  if (record.sessionTarget !== undefined) detail.sessionTarget = record.sessionTarget;
  if (record.sessionMove) detail.sessionMove = record.sessionMove;
  record.attempts.forEach((a, seq) => {
    if (a.notes) ((detail.attemptNotes ??= []) as unknown[]).push({ seq, model: a.model, notes: a.notes });
  });
  return JSON.stringify(detail);
}

const base: RoutingRecord = {
  requestId: 'r1',
  startedAt: '2026-12-07T08:00:00.000Z',
  tenant: 't',
  trafficClass: 'general',
  criticality: 'standard',
  stream: false,
  plannedRoute: ['m-a'],
  excluded: [],
  attempts: [{ model: 'm-a', provider: 'p-a', outcome: 'success', status: 200, latencyMs: 1.25 }],
  servedBy: { model: 'm-a', provider: 'p-a', upstreamModel: 'up-a' },
  fallback: false,
  outcome: 'success',
  promptTokens: 3,
  completionTokens: 4,
  usageEstimated: false,
  costUsd: 0.000123,
  latencyMs: 2.5,
};

/** Text JSON writes as it is, and every kind it escapes: quotes, backslashes, control characters, half surrogate pairs. */
const TEXTS = ['m-b', '', 'é€ 中文', 'a"b', 'C:\\dir', '\\u0000', 'tab\there\nline', '\u0000', '\u007f', 'emoji \ud83d\ude00', 'half \ud83d', 'other half \ude00', '\u2028'];
const NUMBERS = [0, -0, 7, 0.001083, 123456789.125, 1e21, 1e-7, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53 + 2];

const records: RoutingRecord[] = [
  base,
  { ...base, plannedRoute: [], excluded: [{ model: 'm-b', reason: 'capability "json" missing', requested: true }] as unknown as RoutingRecord['excluded'] },
  { ...base, qualityFloor: { tier: 'premium' } as RoutingRecord['qualityFloor'], requestedModel: 'm-a', policyVersion: '3-abcdef' },
  { ...base, needs: { capabilities: ['tools', 'json'], estimatedPromptTokens: 12, requestedMaxOutputTokens: 64 } as RoutingRecord['needs'] },
  { ...base, needs: { capabilities: [], estimatedPromptTokens: 0 } as unknown as RoutingRecord['needs'] },
  { ...base, budget: { tier: 'normal', shareUsed: 0.1, budgetUsd: 10, spentUsd: 1 } as RoutingRecord['budget'] },
  { ...base, budget: { tier: 'normal', shareUsed: 0.1, budgetUsd: 10, spentUsd: 1, reservedUsd: 0.002 } as RoutingRecord['budget'] },
  { ...base, sessionTarget: 'm-a', sessionMove: { from: 'm-a', to: 'm-b', reason: 'circuit open' } },
  {
    ...base,
    attempts: [
      { model: 'm-a', provider: 'p-a', outcome: 'failure', latencyMs: 1, notes: ['trimmed 2 turns'] },
      { model: 'm-b', provider: 'p-b', outcome: 'skipped', latencyMs: 0 },
      { model: 'm-c', provider: 'p-c', outcome: 'success', latencyMs: 3, notes: ['dropped "reasoning" state', 'x\\y'] },
    ],
  },
  ...TEXTS.map((text): RoutingRecord => ({ ...base, plannedRoute: [text, 'm-a', text], requestedModel: text, policyVersion: text, sessionTarget: text })),
  ...NUMBERS.map(
    (n): RoutingRecord => ({ ...base, budget: { tier: 'normal', shareUsed: 0, budgetUsd: 1, spentUsd: 0, reservedUsd: n, overshootUsd: n, remainingUsd: n } as RoutingRecord['budget'] }),
  ),
];

test("a row's detail is byte for byte the text rows and journal lines have always held (a mixed fleet reads both)", () => {
  for (const record of records) assert.equal(toRecordRow(record, undefined, policy).detail, detailAsStored(record));
});

test("a row's start is Date.parse of the record's, read by hand or not", () => {
  const texts = [
    '2026-12-07T08:00:00.000Z',
    '1999-01-01T00:00:00.001Z',
    '2024-02-28T23:59:59.999Z',
    '2024-02-29T12:00:00.000Z',
    '2025-02-29T12:00:00.000Z',
    '2026-04-31T12:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-00-10T00:00:00.000Z',
    '2026-12-00T00:00:00.000Z',
    '2026-12-07T24:00:00.000Z',
    '2026-12-07T23:60:00.000Z',
    '2026-12-07T23:59:60.000Z',
    '0050-06-15T10:00:00.000Z',
    '0999-06-15T10:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '2026-12-07T08:00:00.000+01:00',
    '2026-12-07T08:00:00Z',
    '2026-12-07',
    '2026-1a-07T08:00:00.000Z',
    '2026-12-07 08:00:00.000Z',
    '2026-12-07T08:00:00.0000',
    '2026-12-07T08:00:00.000+',
    '2026-12-07T08:00:00.0a0Z',
    '2026-12-07T08:00:0a.000Z',
  ];
  for (let i = 0; i < 200; i++) texts.push(new Date(Date.UTC(1970 + ((i * 37) % 90), 0, 1) + i * 86_399_937 + i * 7).toISOString());
  for (const startedAt of texts) {
    const expected = Date.parse(startedAt);
    const got = toRecordRow({ ...base, startedAt }, undefined, policy).startedAt;
    if (Number.isFinite(expected)) assert.equal(got, expected, startedAt);
    else assert.ok(Math.abs(got - Date.now()) < 60_000, `${startedAt}: not a time, so now`);
  }
});

test("a row's start is the record's start as a number when the record carries one (the router's do), its text otherwise", () => {
  const text = '2026-12-07T08:00:00.000Z';
  // The number is taken as it is: the text is not read (here they differ by a millisecond, which a router's never do).
  assert.equal(toRecordRow({ ...base, startedAt: text, startedAtMs: Date.parse(text) + 1 }, undefined, policy).startedAt, Date.parse(text) + 1);
  assert.equal(toRecordRow({ ...base, startedAt: text, startedAtMs: 0 }, undefined, policy).startedAt, 0);
  // A fraction (a virtual clock's) or no number: the text's whole milliseconds, as before.
  assert.equal(toRecordRow({ ...base, startedAt: text, startedAtMs: Date.parse(text) + 0.5 }, undefined, policy).startedAt, Date.parse(text));
  assert.equal(toRecordRow({ ...base, startedAt: text, startedAtMs: undefined }, undefined, policy).startedAt, Date.parse(text));
});
