import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS, spell } from './migrations.js';
import { numbered } from './postgres-gateway-store.js';
import { SqliteGatewayStore } from './sqlite-gateway-store.js';

test('numbered: ? placeholders become $1..$n for PostgreSQL', () => {
  assert.equal(numbered('SELECT * FROM t WHERE a = ? AND b IN (?, ?)'), 'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)');
});

test('spell: one migration text, each dialect its serial primary key', () => {
  const table = MIGRATIONS[0]!.statements[0]!;
  assert.match(spell(table, 'sqlite'), /id INTEGER PRIMARY KEY AUTOINCREMENT/);
  assert.match(spell(table, 'postgres'), /id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY/);
  assert.ok(!spell(table, 'postgres').includes('{{'));
});

test('migrate is idempotent', async () => {
  const s = new SqliteGatewayStore(':memory:');
  await s.migrate();
  await s.migrate();
  await s.upsertTenantBudget({ tenant: 't', setting: { budgetUsd: 5 }, updatedAt: 1 });
  await s.upsertTenantBudget({ tenant: 't', setting: { budgetUsd: 7, period: 'week' }, updatedAt: 2 });
  assert.deepEqual(await s.listTenantBudgets(), [{ tenant: 't', setting: { budgetUsd: 7, period: 'week' }, updatedAt: 2 }]);
  await s.close();
});
