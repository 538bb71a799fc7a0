import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';

/** The console's session cookie. */
export const CONSOLE_COOKIE = 'llmr_console';
/** A session ends after this long without a request ... */
export const CONSOLE_IDLE_MS = 30 * 60_000;
/** ... and after this long in any case: the admin key is asked for again. */
export const CONSOLE_MAX_AGE_MS = 12 * 3600_000;
/** Sessions held at once; the least recently used goes first. */
const MAX_SESSIONS = 1_000;

export interface ConsoleSession {
  /** Sent back by the console in `x-csrf-token` on every admin call that changes something. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

/**
 * The console's sessions, opened with the admin key (see ConsoleController):
 * a random 32-byte id in an HttpOnly, SameSite=Strict cookie; the server keeps
 * only its SHA-256, so the map never holds a usable credential. Held in this
 * instance's memory: behind a load balancer, pin the console to one instance
 * (a restart or another instance asks for the admin key again, nothing else is lost).
 */
@Injectable()
export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  /** The clock (a spec moves it). */
  protected now(): number {
    return Date.now();
  }

  /** A new session; the returned id goes into the cookie and is never stored. */
  open(): { id: string; session: ConsoleSession } {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: ConsoleSession = { csrfToken: randomBytes(24).toString('base64url'), createdAt: at, lastSeenAt: at };
    this.sweep(at);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session a request's Cookie header names (and it is touched), else undefined. */
  fromCookieHeader(cookieHeader: string | undefined): ConsoleSession | undefined {
    const id = sessionIdOf(cookieHeader);
    if (id === undefined) return undefined;
    const key = digest(id);
    const session = this.sessions.get(key);
    if (session === undefined) return undefined;
    const at = this.now();
    if (expired(session, at)) {
      this.sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = at;
    // Re-inserted: the map's order is least recently used first.
    this.sessions.delete(key);
    this.sessions.set(key, session);
    return session;
  }

  /** Logout: the session named by the Cookie header ends now. */
  close(cookieHeader: string | undefined): void {
    const id = sessionIdOf(cookieHeader);
    if (id !== undefined) this.sessions.delete(digest(id));
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(at: number): void {
    for (const [key, session] of this.sessions) if (expired(session, at)) this.sessions.delete(key);
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
