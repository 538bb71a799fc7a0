import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { GatewayStore, StoredConsoleSession } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';

/** The console's session cookie. */
export const CONSOLE_COOKIE = 'llmr_console';
/** A session ends after this long without a request ... */
export const CONSOLE_IDLE_MS = 30 * 60_000;
/** ... and after this long in any case: the admin key is asked for again. */
export const CONSOLE_MAX_AGE_MS = 12 * 3600_000;
/**
 * How long this instance trusts what it last read of a session: a logout on
 * another instance of the fleet takes effect here within this time.
 */
export const CONSOLE_RECHECK_MS = 5_000;
/** The store's last-seen time moves on at most this often per session (a write per minute, not per request). */
const TOUCH_EVERY_MS = 60_000;
/** Sessions this instance remembers at once; the least recently used goes first. */
const MAX_REMEMBERED = 1_000;

export interface ConsoleSession {
  /** Sent back by the console in `x-csrf-token` on every admin call that changes something. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

interface Remembered {
  session: ConsoleSession;
  /** When this instance last read the session from the store. */
  checkedAt: number;
  /** The last-seen time the store holds. */
  storedSeenAt: number;
}

/**
 * The console's sessions, opened with the admin key (see ConsoleController):
 * a random 32-byte id in an HttpOnly, SameSite=Strict cookie. They are kept in
 * the gateway's store, so every instance on it knows them and a restart keeps
 * them; the store holds only the id's SHA-256, never a usable credential. Each
 * instance re-reads a session at most every CONSOLE_RECHECK_MS.
 */
@Injectable()
export class ConsoleSessions {
  private readonly remembered = new Map<string, Remembered>();

  constructor(@Inject(GATEWAY_STORE) private readonly store: GatewayStore) {}

  /** The clock (a spec moves it). */
  protected now(): number {
    return Date.now();
  }

  /** A new session; the returned id goes into the cookie and is never stored. */
  async open(): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const stored: StoredConsoleSession = { idHash: digest(id), csrfToken: randomBytes(24).toString('base64url'), createdAt: at, lastSeenAt: at };
    await this.store.deleteExpiredConsoleSessions(at - CONSOLE_MAX_AGE_MS, at - CONSOLE_IDLE_MS);
    await this.store.insertConsoleSession(stored);
    const session: ConsoleSession = { csrfToken: stored.csrfToken, createdAt: at, lastSeenAt: at };
    this.remember(stored.idHash, { session, checkedAt: at, storedSeenAt: at });
    return { id, session };
  }

  /** The live session a request's Cookie header names (and it is touched), else undefined. */
  async fromCookieHeader(cookieHeader: string | undefined): Promise<ConsoleSession | undefined> {
    const id = sessionIdOf(cookieHeader);
    if (id === undefined) return undefined;
    const key = digest(id);
    const at = this.now();
    let known = this.remembered.get(key);
    if (known === undefined || at - known.checkedAt >= CONSOLE_RECHECK_MS) {
      const stored = await this.store.findConsoleSession(key);
      if (stored === undefined) return void this.remembered.delete(key);
      const lastSeenAt = Math.max(stored.lastSeenAt, known?.session.lastSeenAt ?? 0);
      known = { session: { csrfToken: stored.csrfToken, createdAt: stored.createdAt, lastSeenAt }, checkedAt: at, storedSeenAt: stored.lastSeenAt };
    }
    if (expired(known.session, at)) {
      this.remembered.delete(key);
      await this.store.deleteConsoleSession(key);
      return undefined;
    }
    known.session.lastSeenAt = at;
    if (at - known.storedSeenAt >= TOUCH_EVERY_MS) {
      known.storedSeenAt = at;
      await this.store.touchConsoleSession(key, at);
    }
    this.remember(key, known);
    return known.session;
  }

  /** Logout: the session named by the Cookie header ends now, on every instance within CONSOLE_RECHECK_MS. */
  async close(cookieHeader: string | undefined): Promise<void> {
    const id = sessionIdOf(cookieHeader);
    if (id === undefined) return;
    this.remembered.delete(digest(id));
    await this.store.deleteConsoleSession(digest(id));
  }

  private remember(key: string, entry: Remembered): void {
    // Re-inserted: the map's order is least recently used first.
    this.remembered.delete(key);
    this.remembered.set(key, entry);
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
  }
}

/** The Set-Cookie value that opens a session (`secure` when the console is reached over https). */
export function sessionCookie(id: string, secure: boolean): string {
  return `${CONSOLE_COOKIE}=${id}; Path=/; Max-Age=${CONSOLE_MAX_AGE_MS / 1000}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that removes it. */
export function clearedSessionCookie(secure: boolean): string {
  return `${CONSOLE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function expired(session: ConsoleSession, at: number): boolean {
  return at - session.lastSeenAt >= CONSOLE_IDLE_MS || at - session.createdAt >= CONSOLE_MAX_AGE_MS;
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

function sessionIdOf(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== CONSOLE_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (SESSION_ID.test(value)) return value;
  }
  return undefined;
}
