/**
 * Nest's two loggers (@nestjs/common's logger.service.js and
 * console-logger.service.js) each build an `Intl.DateTimeFormat` as the
 * package loads, for text-mode timestamps. A process's first Intl object has
 * ICU look through its locales: ~5 MB of the node binary's ICU data paged in
 * and more in malloc, resident for the process's life, while the gateway's
 * JSON log never asks either logger for a time. Imported before Nest (main.ts),
 * this module makes a DateTimeFormat built while the gateway's modules load
 * wait for its first use; `endDateTimeFormatDeferral()` puts the real
 * constructor back once they have loaded.
 */
const RealDateTimeFormat = Intl.DateTimeFormat;

/** An `Intl.DateTimeFormat` made from the same arguments on first use; the methods Nest's loggers and callers use. */
export class DeferredDateTimeFormat {
  private made?: Intl.DateTimeFormat;

  constructor(
    private readonly locales?: string | string[],
    private readonly options?: Intl.DateTimeFormatOptions,
  ) {}

  private real(): Intl.DateTimeFormat {
    return (this.made ??= new RealDateTimeFormat(this.locales, this.options));
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

  static supportedLocalesOf(locales: string | string[], options?: Intl.DateTimeFormatOptions): string[] {
    return RealDateTimeFormat.supportedLocalesOf(locales, options);
  }
}

Intl.DateTimeFormat = DeferredDateTimeFormat as unknown as typeof Intl.DateTimeFormat;

/** The real `Intl.DateTimeFormat` back, for everything built from here on. */
export function endDateTimeFormatDeferral(): void {
  Intl.DateTimeFormat = RealDateTimeFormat;
}
