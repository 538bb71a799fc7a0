import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { GatewayLogger, logFormatFromEnv } from './gateway-logger.js';

/** What the logger writes to stdout and stderr while a test runs. */
function capture(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const grab = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  };
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  return {
    lines,
    restore: () => {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}

describe('GatewayLogger', () => {
  let out: ReturnType<typeof capture>;
  beforeEach(() => (out = capture()));
  afterEach(() => {
    out.restore();
    Logger.overrideLogger(false as never);
  });

  it('JSON: one object per line with time, level, context, requestId and msg, through a Nest Logger', () => {
    Logger.overrideLogger(new GatewayLogger('json'));
    new Logger('Records').error('routing record r-1 refused by the store', { requestId: 'r-1' });
    new Logger('NestFactory').log('Starting Nest application...');
    new Logger('Gateway').warn('two\nlines');
    out.restore();
    const [a, b, c] = out.lines.map((l) => JSON.parse(l));
    assert.equal(out.lines.length, 3, out.lines.join('\n'));
    assert.deepEqual(Object.keys(a).slice(0, 5), ['time', 'level', 'context', 'requestId', 'msg']);
    assert.deepEqual({ level: a.level, context: a.context, requestId: a.requestId, msg: a.msg }, { level: 'error', context: 'Records', requestId: 'r-1', msg: 'routing record r-1 refused by the store' });
    assert.ok(Math.abs(Date.parse(a.time) - Date.now()) < 5_000, a.time);
    assert.deepEqual({ level: b.level, context: b.context, msg: b.msg }, { level: 'info', context: 'NestFactory', msg: 'Starting Nest application...' });
    assert.equal(c.msg, 'two\nlines');
    assert.ok(out.lines.every((l) => !l.includes('\u001b[')), 'no ANSI colours');
  });

  it('redacts secrets in messages, stacks and error fields, except the one revealed dev key', () => {
    const logger = new GatewayLogger('json');
    Logger.overrideLogger(logger);
    const err = new Error('upstream said: invalid key sk-abcdefghijklmnop (Bearer abcdef123456)');
    new Logger('Errors').error('failed with llmr_abcdef123456_secretsecret and api_key=hunter22', err.stack);
    logger.reveal('llmr_admin_dev_0123456789');
    new Logger('Gateway').warn('export ADMIN_KEY=llmr_admin_dev_0123456789 (not llmr_other12345678)');
    out.restore();
    const text = out.lines.join('\n');
    for (const secret of ['sk-abcdefghijklmnop', 'abcdef123456', 'llmr_abcdef123456_secretsecret', 'hunter22', 'llmr_other12345678']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
    const [first, second] = out.lines.map((l) => JSON.parse(l));
    assert.match(first.msg, /llmr_\[redacted\].*api_key=\[redacted\]/);
    assert.match(JSON.stringify(first), /sk-\[redacted\]/);
    assert.equal(second.msg, 'export ADMIN_KEY=llmr_admin_dev_0123456789 (not llmr_[redacted])');
  });

  it('text: Nest\'s human lines, redacted, without colours', () => {
    Logger.overrideLogger(new GatewayLogger('text'));
    new Logger('Gateway').log('token llmr_abcdef123456_secret');
    out.restore();
    assert.equal(out.lines.length, 1);
    assert.match(out.lines[0]!, /LOG \[Gateway\] token llmr_\[redacted\]/);
    assert.ok(!out.lines[0]!.includes('\u001b['));
  });

  it('LLM_LOG_FORMAT chooses; unset, JSON unless stdout is a terminal; anything else is refused', () => {
    assert.equal(logFormatFromEnv({}, false), 'json');
    assert.equal(logFormatFromEnv({}, true), 'text');
    assert.equal(logFormatFromEnv({ LLM_LOG_FORMAT: 'json' }, true), 'json');
    assert.equal(logFormatFromEnv({ LLM_LOG_FORMAT: 'text' }, false), 'text');
    assert.throws(() => logFormatFromEnv({ LLM_LOG_FORMAT: 'pretty' }, false), /LLM_LOG_FORMAT must be json or text/);
  });
});
