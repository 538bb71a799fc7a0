/**
 * Nest's two loggers (@nestjs/common's logger.service.js and
 * console-logger.service.js) each build an `Intl.DateTimeFormat` as the
 * package loads, for text-mode timestamps. A process's first Intl object has
 * ICU look through its locales: ~5 MB of the node binary's ICU data paged in
 * and more in malloc, resident for the process's life, while the gateway's
 * JSON log never asks either logger for a time. Imported before Nest (main.ts),
 * this module makes a DateTimeFormat built with Nest's loggers' arguments
 * while the gateway's modules load wait for its first use (any other is built
 * at once, as usual: its options checked, its whole interface there);
 * `endDateTimeFormatDeferral()` puts the real constructor back once they have
 * loaded.
 */
const RealDateTimeFormat = Intl.DateTimeFormat;

/** Nest's loggers' options (logger.service.js, console-logger.service.js), with no locales. */
const NEST_LOGGER_OPTIONS: Readonly<Record<string, string>> = { year: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', day: '2-digit', month: '2-digit' };

function isNestLoggerFormat(locales: unknown, options: unknown): options is Intl.DateTimeFormatOptions {
  if (locales !== undefined || typeof options !== 'object' || options === null) return false;
  const keys = Object.keys(options);
  return keys.length === Object.keys(NEST_LOGGER_OPTIONS).length && keys.every((k) => (options as Record<string, unknown>)[k] === NEST_LOGGER_OPTIONS[k]);
}

/** Nest's loggers' `Intl.DateTimeFormat`, made on first use: `format` (all they call), `formatToParts`, `resolvedOptions`. */
class DeferredDateTimeFormat {
  private made?: Intl.DateTimeFormat;

  private real(): Intl.DateTimeFormat {
    return (this.made ??= new RealDateTimeFormat(undefined, NEST_LOGGER_OPTIONS));
  }

  /** As the real one's: a function bound to its formatter. */
  get format(): Intl.DateTimeFormat['format'] {
    return this.real().format;
  }

  formatToParts(date?: Date | number): Intl.DateTimeFormatPart[] {
    return this.real().formatToParts(date);
  }

  resolvedOptions(): Intl.ResolvedDateTimeFormatOptions {
    return this.real().resolvedOptions();
  }
}

/** The constructor in place while deferring: Nest's loggers' formats deferred, every other call the real one's. */
function DeferringDateTimeFormat(locales?: string | string[], options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat | DeferredDateTimeFormat {
  if (new.target !== undefined && isNestLoggerFormat(locales, options)) return new DeferredDateTimeFormat();
  return new.target === undefined ? RealDateTimeFormat(locales, options) : new RealDateTimeFormat(locales, options);
}
DeferringDateTimeFormat.supportedLocalesOf = RealDateTimeFormat.supportedLocalesOf;

Intl.DateTimeFormat = DeferringDateTimeFormat as unknown as typeof Intl.DateTimeFormat;

/** The real `Intl.DateTimeFormat` back, for everything built from here on. */
export function endDateTimeFormatDeferral(): void {
  Intl.DateTimeFormat = RealDateTimeFormat;
}
