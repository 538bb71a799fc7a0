import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTracing, tracingEnabled } from './tracing.js';

describe('tracingEnabled', () => {
  it('on with an OTLP endpoint or a traces exporter named; off otherwise, with exporter none, or the SDK disabled', () => {
    assert.equal(tracingEnabled({}), false);
    assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), false);
    assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
    assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
    assert.equal(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
    assert.equal(tracingEnabled({ OTEL_TRACES_EXPORTER: 'console' }), true);
    assert.equal(tracingEnabled({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
    assert.equal(tracingEnabled({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
  });

  it('off: startTracing starts nothing', async () => {
    assert.equal(await startTracing({}), undefined);
  });
});
