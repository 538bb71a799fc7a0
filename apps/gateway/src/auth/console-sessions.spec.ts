import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createStore } from '../store/create-store.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { clearedSessionCookie, CONSOLE_IDLE_MS, CONSOLE_MAX_AGE_MS, CONSOLE_RECHECK_MS, ConsoleSessions, sessionCookie } from './console-sessions.js';

/** Sessions on a clock the test moves, over a real (in-memory SQLite) store. */
class ClockedSessions extends ConsoleSessions {
  at = 1_000_000;
  protected override now(): number {
    return this.at;
  }
}

let store: GatewayStore;
before(async () => {
  store = await createStore({ kind: 'sqlite', path: ':memory:' });
  await store.migrate();
});
after(() => store.close());

const cookieOf = (id: string) => `other=1; llmr_console=${id}; theme=dark`;

test('a session is found by its cookie, and only by the whole random id', async () => {
  const sessions = new ClockedSessions(store);
  const { id, session } = await sessions.open();
  assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal((await sessions.fromCookieHeader(cookieOf(id)))?.csrfToken, session.csrfToken);
  const oneCharOff = `${id.slice(0, 42)}${id.endsWith('A') ? 'B' : 'A'}`;
  assert.equal(await sessions.fromCookieHeader(cookieOf(oneCharOff)), undefined);
  assert.equal(await sessions.fromCookieHeader(undefined), undefined);
  assert.equal(await sessions.fromCookieHeader('llmr_console='), undefined);
  assert.equal(await sessions.fromCookieHeader(`llmr_consolex=${id}`), undefined, 'another cookie with a longer name');
  assert.notEqual((await sessions.open()).session.csrfToken, session.csrfToken);
});

test('the store keeps no usable credential: only the SHA-256 of the id', async () => {
  const sessions = new ClockedSessions(store);
  const { id } = await sessions.open();
  assert.equal(await store.findConsoleSession(id), undefined);
  const row = await store.findConsoleSession(createHash('sha256').update(id).digest('hex'));
  assert.ok(row);
  assert.ok(!JSON.stringify(row).includes(id));
});

test('a session ends after its idle time, each request moving it on, and at its maximum age in any case', async () => {
  const sessions = new ClockedSessions(store);
  const { id } = await sessions.open();
  sessions.at += CONSOLE_IDLE_MS - 1;
  assert.ok(await sessions.fromCookieHeader(cookieOf(id)), 'used just before the idle limit');
  sessions.at += CONSOLE_IDLE_MS - 1;
  assert.ok(await sessions.fromCookieHeader(cookieOf(id)), 'the last use moved the idle limit on');
  sessions.at += CONSOLE_IDLE_MS;
  assert.equal(await sessions.fromCookieHeader(cookieOf(id)), undefined, 'idle too long');

  const busy = await sessions.open();
  const opened = sessions.at;
  while (sessions.at - opened < CONSOLE_MAX_AGE_MS - CONSOLE_IDLE_MS / 2) {
    sessions.at += CONSOLE_IDLE_MS / 2;
    assert.ok(await sessions.fromCookieHeader(cookieOf(busy.id)));
  }
  sessions.at = opened + CONSOLE_MAX_AGE_MS;
  assert.equal(await sessions.fromCookieHeader(cookieOf(busy.id)), undefined, 'too old, however busy');
});

test('instances sharing the store share the sessions: one opened on one works on the other, a logout ends it on both', async () => {
  const a = new ClockedSessions(store);
  const b = new ClockedSessions(store);
  const { id } = await a.open();
  assert.ok(await b.fromCookieHeader(cookieOf(id)), 'opened on a, found on b');
  // b was used last: a, reading the store again, keeps the session alive on b's use.
  b.at = a.at += CONSOLE_IDLE_MS - 1;
  assert.ok(await b.fromCookieHeader(cookieOf(id)));
  b.at = a.at += 2 * 60_000;
  assert.ok(await a.fromCookieHeader(cookieOf(id)), "a sees b's use through the store");

  await a.close(cookieOf(id));
  assert.equal(await a.fromCookieHeader(cookieOf(id)), undefined, 'at once where it was closed');
  b.at += CONSOLE_RECHECK_MS;
  assert.equal(await b.fromCookieHeader(cookieOf(id)), undefined, 'and on the other once it reads the store again');
});

test('the cookie: HttpOnly, SameSite=Strict, Secure over https, removed with Max-Age=0', () => {
  assert.equal(sessionCookie('abc', false), `llmr_console=abc; Path=/; Max-Age=${CONSOLE_MAX_AGE_MS / 1000}; HttpOnly; SameSite=Strict`);
  assert.match(sessionCookie('abc', true), /; Secure$/);
  assert.equal(clearedSessionCookie(false), 'llmr_console=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
});
