import assert from 'node:assert/strict';
import { test } from 'node:test';

// Real formatters built in this process, counted from before the module under test captures the constructor.
const RealDateTimeFormat = Intl.DateTimeFormat;
let built = 0;
Intl.DateTimeFormat = new Proxy(RealDateTimeFormat, {
  construct(target, args) {
    built++;
    return Reflect.construct(target, args);
  },
});
const { endDateTimeFormatDeferral } = await import('./deferred-date-time-format.js');

// Nest's loggers' options (@nestjs/common's logger.service.js and console-logger.service.js).
const NEST_OPTIONS: Intl.DateTimeFormatOptions = { year: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', day: '2-digit', month: '2-digit' };

test("while deferred, Nest's loggers' DateTimeFormat is made on its first use, and formats as the real one; any other is made at once", () => {
  const deferred = new Intl.DateTimeFormat(undefined, NEST_OPTIONS);
  assert.equal(built, 0, 'nothing made until a format is asked for');
  const other = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });
  assert.equal(built, 1, 'other arguments: the real one at once');
  assert.ok(other instanceof RealDateTimeFormat);
  assert.equal(typeof other.formatRange, 'function');
  assert.throws(() => new Intl.DateTimeFormat(undefined, { timeZone: 'Nowhere/Never' }), RangeError, 'options still checked as it is built');
  assert.equal(built, 2);
  const when = Date.UTC(2026, 11, 7, 16, 5, 9);
  const real = new RealDateTimeFormat(undefined, NEST_OPTIONS);
  assert.equal(deferred.format(when), real.format(when));
  // Nest calls it as a method; the real `format` is also a bound function that works detached.
  const { format } = deferred;
  assert.equal(format(when), real.format(when));
  assert.deepEqual(deferred.formatToParts(when), real.formatToParts(when));
  assert.deepEqual(deferred.resolvedOptions(), real.resolvedOptions());
  assert.equal(other.format(when), 'December 7, 2026');
  assert.equal(built, 3, 'the deferred one made once, on its first use');
  assert.deepEqual(Intl.DateTimeFormat.supportedLocalesOf(['en-US']), ['en-US']);
});

test('once the deferral ends, Intl.DateTimeFormat builds at once again', () => {
  endDateTimeFormatDeferral();
  const before = built;
  const f = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC' });
  assert.equal(built, before + 1);
  assert.ok(f instanceof RealDateTimeFormat);
});
