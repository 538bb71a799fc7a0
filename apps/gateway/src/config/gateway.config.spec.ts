import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { defaultGatewayConfig, gatewayConfigFromEnv } from './gateway.config.js';

test('no environment: the dev quick start (embedded simulator, SQLite under data/, keys on, a generated dev admin key)', () => {
  const c = gatewayConfigFromEnv({});
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.embeddedSimulator, true);
  assert.equal(c.auth, 'api-keys');
  assert.deepEqual(c.store, { kind: 'sqlite', path: resolve('data/gateway.sqlite') });
  assert.equal(c.adminKeyGenerated, true);
  assert.match(c.adminKey ?? '', /^llmr_admin_dev_/);
  assert.notEqual(gatewayConfigFromEnv({}).adminKey, c.adminKey, 'a new one each start');
});

test('a policy file without LLM_ADMIN_KEY: no simulator, admin API disabled', () => {
  const c = gatewayConfigFromEnv({ LLM_POLICY_FILE: 'prod.yaml' });
  assert.equal(c.embeddedSimulator, false);
  assert.equal(c.adminKey, undefined);
  assert.equal(c.adminKeyGenerated, false);
});

test('DATABASE_URL selects PostgreSQL; every knob is read', () => {
  const c = gatewayConfigFromEnv({
    DATABASE_URL: 'postgres://u:p@db:5432/llm',
    LLM_PG_SCHEMA: 'gateway',
    LLM_PG_POOL_SIZE: '9',
    LLM_ADMIN_KEY: 'a-very-long-admin-key',
    LLM_AUTH: 'disabled',
    LLM_RECORD_FLUSH_MS: '75',
    LLM_RECORD_BATCH_SIZE: '10',
    LLM_KEYS_REFRESH_MS: '0',
    LLM_REQUEST_LOG: 'false',
    LLM_SAMPLE_ENDPOINTS: 'off',
    PORT: '9000',
  });
  assert.deepEqual(c.store, { kind: 'postgres', url: 'postgres://u:p@db:5432/llm', schema: 'gateway', poolSize: 9 });
  assert.equal(c.adminKey, 'a-very-long-admin-key');
  assert.equal(c.auth, 'disabled');
  assert.deepEqual([c.recordFlushMs, c.recordBatchSize, c.keysRefreshMs, c.requestLog, c.sampleEndpoints, c.port], [75, 10, 0, false, false, 9000]);
});

test('bad values: one error naming every variable', () => {
  assert.throws(
    () => gatewayConfigFromEnv({ PORT: 'x', LLM_AUTH: 'maybe', LLM_PG_SCHEMA: 'Bad-Name', LLM_REQUEST_LOG: 'perhaps' }),
    (err: Error) => ['PORT', 'LLM_AUTH', 'LLM_PG_SCHEMA', 'LLM_REQUEST_LOG'].every((v) => err.message.includes(v)),
  );
  assert.throws(() => gatewayConfigFromEnv({ LLM_ADMIN_KEY: 'short' }), /LLM_ADMIN_KEY: must be at least 16/);
  assert.throws(() => gatewayConfigFromEnv({ LLM_METRICS_TOKEN: 'short' }), /LLM_METRICS_TOKEN: must be at least 16/);
});

test('LLM_METRICS_TOKEN: absent or empty leaves /metrics open; set, it is the scrape token', () => {
  assert.equal(gatewayConfigFromEnv({}).metricsToken, undefined);
  assert.equal(gatewayConfigFromEnv({ LLM_METRICS_TOKEN: '' }).metricsToken, undefined);
  assert.equal(gatewayConfigFromEnv({ LLM_METRICS_TOKEN: 'scrape-token-0123456789' }).metricsToken, 'scrape-token-0123456789');
});

test('LLM_REDIS_URL: absent or empty keeps the in-process ledger; a redis URL shares it; anything else is refused', () => {
  assert.equal(gatewayConfigFromEnv({}).redisUrl, undefined);
  assert.equal(gatewayConfigFromEnv({ LLM_REDIS_URL: '' }).redisUrl, undefined);
  assert.equal(gatewayConfigFromEnv({ LLM_REDIS_URL: 'redis://10.0.0.5:6379/2' }).redisUrl, 'redis://10.0.0.5:6379/2');
  assert.throws(() => gatewayConfigFromEnv({ LLM_REDIS_URL: '10.0.0.5:6379' }), /LLM_REDIS_URL: a redis:\/\/ or rediss:\/\/ URL/);
});

test('LLM_REDIS_PREFIX: llmr: by default; a bad prefix is refused', () => {
  assert.equal(gatewayConfigFromEnv({}).redisKeyPrefix, 'llmr:');
  assert.equal(gatewayConfigFromEnv({ LLM_REDIS_PREFIX: 'fleet-eu:' }).redisKeyPrefix, 'fleet-eu:');
  assert.throws(() => gatewayConfigFromEnv({ LLM_REDIS_PREFIX: 'has space' }), /LLM_REDIS_PREFIX/);
});

test('LLM_REDIS_COMMAND_TIMEOUT_MS: 1000 by default; a slow environment raises it; 0 and non-integers refused', () => {
  assert.equal(gatewayConfigFromEnv({}).redisCommandTimeoutMs, 1_000);
  assert.equal(gatewayConfigFromEnv({ LLM_REDIS_COMMAND_TIMEOUT_MS: '' }).redisCommandTimeoutMs, 1_000);
  assert.equal(gatewayConfigFromEnv({ LLM_REDIS_COMMAND_TIMEOUT_MS: '30000' }).redisCommandTimeoutMs, 30_000);
  assert.throws(() => gatewayConfigFromEnv({ LLM_REDIS_COMMAND_TIMEOUT_MS: '0' }), /LLM_REDIS_COMMAND_TIMEOUT_MS must be at least 1/);
  assert.equal(gatewayConfigFromEnv({ LLM_REDIS_COMMAND_TIMEOUT_MS: '2147483647' }).redisCommandTimeoutMs, 2 ** 31 - 1);
  assert.throws(() => gatewayConfigFromEnv({ LLM_REDIS_COMMAND_TIMEOUT_MS: '2147483648' }), /LLM_REDIS_COMMAND_TIMEOUT_MS must be at most 2147483647/);
  assert.throws(() => gatewayConfigFromEnv({ LLM_REDIS_COMMAND_TIMEOUT_MS: '1.5' }), /LLM_REDIS_COMMAND_TIMEOUT_MS must be a non-negative integer/);
  assert.throws(() => gatewayConfigFromEnv({ LLM_REDIS_COMMAND_TIMEOUT_MS: 'slow' }), /LLM_REDIS_COMMAND_TIMEOUT_MS must be a non-negative integer/);
});

test('LLM_QUEUE_LEASE_MS: 30 s by default, at least 1 s, a bad value refused', () => {
  assert.equal(gatewayConfigFromEnv({}).queueLeaseMs, 30_000);
  assert.equal(gatewayConfigFromEnv({ LLM_QUEUE_LEASE_MS: '5000' }).queueLeaseMs, 5_000);
  assert.equal(gatewayConfigFromEnv({ LLM_QUEUE_LEASE_MS: '10' }).queueLeaseMs, 1_000);
  assert.throws(() => gatewayConfigFromEnv({ LLM_QUEUE_LEASE_MS: 'soon' }), /LLM_QUEUE_LEASE_MS must be a non-negative integer/);
});

test('LLM_CALLBACK_ALLOW: none by default; hosts, addresses and CIDRs, or *; a bad entry refused, named', () => {
  assert.deepEqual(gatewayConfigFromEnv({}).callbackAllow, []);
  assert.deepEqual(defaultGatewayConfig().callbackAllow, []);
  assert.deepEqual(gatewayConfigFromEnv({ LLM_CALLBACK_ALLOW: ' 127.0.0.1, 10.0.0.0/8,,hooks.internal ' }).callbackAllow, ['127.0.0.1', '10.0.0.0/8', 'hooks.internal']);
  assert.deepEqual(gatewayConfigFromEnv({ LLM_CALLBACK_ALLOW: '*' }).callbackAllow, ['*']);
  assert.throws(() => gatewayConfigFromEnv({ LLM_CALLBACK_ALLOW: '10.0.0.0/99' }), /LLM_CALLBACK_ALLOW: "10\.0\.0\.0\/99" is not a host name, an IP address or a CIDR/);
});

test('LLM_TRUST_PROXY: none by default; addresses, CIDRs and the named ranges; a bad entry refused, named', () => {
  assert.deepEqual(gatewayConfigFromEnv({}).trustProxy, []);
  assert.deepEqual(gatewayConfigFromEnv({ LLM_TRUST_PROXY: ' 10.0.0.0/8, loopback,,fd00::/8, 192.168.1.7 ' }).trustProxy, ['10.0.0.0/8', 'loopback', 'fd00::/8', '192.168.1.7']);
  for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x']) {
    assert.throws(() => gatewayConfigFromEnv({ LLM_TRUST_PROXY: bad }), new RegExp(`LLM_TRUST_PROXY: "${bad.replace(/[./]/g, '\\$&')}" is not an address`), bad);
  }
});

test('LLM_RECORDS and LLM_METRICS: on unless switched off (the benchmark measures what each costs)', () => {
  const c = gatewayConfigFromEnv({});
  assert.deepEqual([c.records, c.metrics], [true, true]);
  const off = gatewayConfigFromEnv({ LLM_RECORDS: 'false', LLM_METRICS: 'off' });
  assert.deepEqual([off.records, off.metrics], [false, false]);
  assert.throws(() => gatewayConfigFromEnv({ LLM_RECORDS: 'sometimes' }), /LLM_RECORDS/);
});
