import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startupWarnings } from './startup-warnings.js';

test('a production start without a metrics token warns that /metrics is open', () => {
  const warnings = startupWarnings({ auth: 'api-keys', embeddedSimulator: false });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /LLM_METRICS_TOKEN/);
});

test('with a token, or in the dev quick start, it does not', () => {
  assert.deepEqual(startupWarnings({ auth: 'api-keys', embeddedSimulator: false, metricsToken: 'x'.repeat(16) }), []);
  assert.deepEqual(startupWarnings({ auth: 'api-keys', embeddedSimulator: true }), []);
});

test('authentication disabled always warns', () => {
  assert.match(startupWarnings({ auth: 'disabled', embeddedSimulator: true }).join('\n'), /LLM_AUTH=disabled/);
});

test('records or metrics switched off always warn, each by its variable', () => {
  const warnings = startupWarnings({ auth: 'api-keys', embeddedSimulator: true, records: false, metrics: false }).join('\n');
  assert.match(warnings, /LLM_RECORDS=false/);
  assert.match(warnings, /LLM_METRICS=false/);
  assert.deepEqual(startupWarnings({ auth: 'api-keys', embeddedSimulator: true, records: true, metrics: true }), []);
});
