import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clearedSessionCookie, CONSOLE_IDLE_MS, CONSOLE_MAX_AGE_MS, ConsoleSessions, sessionCookie } from './console-sessions.js';

/** Sessions on a clock the test moves. */
class ClockedSessions extends ConsoleSessions {
  at = 1_000_000;
  protected override now(): number {
    return this.at;
  }
}

const cookieOf = (id: string) => `other=1; llmr_console=${id}; theme=dark`;

test('a session is found by its cookie, and only by the whole random id', () => {
  const sessions = new ClockedSessions();
  const { id, session } = sessions.open();
  assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(sessions.fromCookieHeader(cookieOf(id)), session);
  const oneCharOff = `${id.slice(0, 42)}${id.endsWith('A') ? 'B' : 'A'}`;
  assert.equal(sessions.fromCookieHeader(cookieOf(oneCharOff)), undefined);
  assert.equal(sessions.fromCookieHeader(undefined), undefined);
  assert.equal(sessions.fromCookieHeader('llmr_console='), undefined);
  assert.equal(sessions.fromCookieHeader(`llmr_consolex=${id}`), undefined, 'another cookie with a longer name');
  assert.notEqual(sessions.open().session.csrfToken, session.csrfToken);
});

test('the server keeps no usable credential: only a digest of the id', () => {
  const sessions = new ClockedSessions();
  const { id } = sessions.open();
  const held = JSON.stringify([...(sessions as unknown as { sessions: Map<string, unknown> }).sessions.keys()]);
  assert.ok(!held.includes(id));
});

test('a session ends after its idle time, each request moving it on, and at its maximum age in any case', () => {
  const sessions = new ClockedSessions();
  const { id } = sessions.open();
  sessions.at += CONSOLE_IDLE_MS - 1;
  assert.ok(sessions.fromCookieHeader(cookieOf(id)), 'used just before the idle limit');
  sessions.at += CONSOLE_IDLE_MS - 1;
  assert.ok(sessions.fromCookieHeader(cookieOf(id)), 'the last use moved the idle limit on');
  sessions.at += CONSOLE_IDLE_MS;
  assert.equal(sessions.fromCookieHeader(cookieOf(id)), undefined, 'idle too long');

  const busy = sessions.open();
  const opened = sessions.at;
  while (sessions.at - opened < CONSOLE_MAX_AGE_MS - CONSOLE_IDLE_MS / 2) {
    sessions.at += CONSOLE_IDLE_MS / 2;
    assert.ok(sessions.fromCookieHeader(cookieOf(busy.id)));
  }
  sessions.at = opened + CONSOLE_MAX_AGE_MS;
  assert.equal(sessions.fromCookieHeader(cookieOf(busy.id)), undefined, 'too old, however busy');
});

test('logout ends the session at once', () => {
  const sessions = new ClockedSessions();
  const { id } = sessions.open();
  sessions.close(cookieOf(id));
  assert.equal(sessions.fromCookieHeader(cookieOf(id)), undefined);
  assert.equal(sessions.size, 0);
});

test('the cookie: HttpOnly, SameSite=Strict, Secure over https, removed with Max-Age=0', () => {
  assert.equal(sessionCookie('abc', false), `llmr_console=abc; Path=/; Max-Age=${CONSOLE_MAX_AGE_MS / 1000}; HttpOnly; SameSite=Strict`);
  assert.match(sessionCookie('abc', true), /; Secure$/);
  assert.equal(clearedSessionCookie(false), 'llmr_console=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
});
