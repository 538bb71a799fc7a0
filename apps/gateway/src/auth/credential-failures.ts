import { Injectable } from '@nestjs/common';
import type { ErrorResponse } from '../errors/error-response.js';
import { openAiError } from '../errors/openai-error.js';
import { secretsEqual } from './api-key.js';

/** Wrong admin credentials (admin key, console login, metrics token) one address may send in a window ... */
export const CREDENTIAL_FAILURES_ALLOWED = 10;
/** ... of this length; beyond them, every attempt from it is refused until the window ends. */
export const CREDENTIAL_FAILURE_WINDOW_MS = 15 * 60_000;
/** Addresses remembered at once; the oldest window goes first (a flood of spoofed sources cannot grow the map). */
const MAX_ADDRESSES = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Failed admin credentials per client address, so that a weak LLM_ADMIN_KEY
 * cannot be guessed at line rate over the console's login form, the admin API
 * or the metrics scrape. Kept in this instance's memory: each instance of a
 * fleet counts its own (a guesser spread over N instances gets N windows'
 * worth). API keys are not counted here: they are 32 random bytes.
 */
@Injectable()
export class CredentialFailures {
  private readonly windows = new Map<string, Window>();

  /** The clock (a spec moves it). */
  protected now(): number {
    return Date.now();
  }

  /**
   * `given` checked against `secret` (in constant time) for `address`: 'right', 'wrong' (counted as a guess when a
   * credential was `sent`: a call that sent none guessed nothing), or the 429 of an address that has used up its
   * window, whose credential is not compared at all.
   */
  verify(address: string, given: string | undefined, secret: string, sent = given !== undefined): 'right' | 'wrong' | ErrorResponse {
    const tooMany = this.refusal(address);
    if (tooMany) return tooMany;
    if (given !== undefined && secretsEqual(given, secret)) return 'right';
    if (sent) this.failed(address);
    return 'wrong';
  }

  /** The 429 for an address that has used up its window, else undefined. */
  refusal(address: string): ErrorResponse | undefined {
    const window = this.current(address);
    if (window === undefined || window.failures < CREDENTIAL_FAILURES_ALLOWED) return undefined;
    const seconds = Math.max(1, Math.ceil((window.startedAt + CREDENTIAL_FAILURE_WINDOW_MS - this.now()) / 1000));
    const message = `Too many wrong admin credentials from this address: try again in ${seconds} s.`;
    return { status: 429, body: openAiError(message, 'rate_limit_error', 'too_many_failed_credentials'), headers: { 'retry-after': String(seconds), 'x-should-retry': 'false' } };
  }

  /** One more wrong credential from the address. */
  failed(address: string): void {
    const window = this.current(address);
    if (window !== undefined) {
      window.failures++;
      return;
    }
    if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { startedAt: this.now(), failures: 1 });
  }

  /** The address's live window; an ended one is forgotten. */
  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window === undefined) return undefined;
    if (this.now() - window.startedAt < CREDENTIAL_FAILURE_WINDOW_MS) return window;
    this.windows.delete(address);
    return undefined;
  }
}
