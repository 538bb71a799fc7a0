import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySessionStore } from './in-memory-session.store.js';
import { sessionStoreKey, type SessionState } from './session-store.js';

const state = (target: string): SessionState => ({ target, original: target, createdAt: 0, updatedAt: 0, turns: 1, switches: [] });

describe('InMemorySessionStore', () => {
  it('an entry expires its TTL after its last write', () => {
    let now = 1_000;
    const store = new InMemorySessionStore({ clock: () => now });
    const key = { tenant: 't', caller: 'k', id: 's' };
    store.set(key, state('a'), 100);
    now += 99;
    assert.equal(store.get(key)?.target, 'a');
    store.set(key, state('b'), 100);
    now += 99;
    assert.equal(store.get(key)?.target, 'b');
    now += 1;
    assert.equal(store.get(key), undefined);
    assert.equal(store.size, 0);
  });

  it('holds at most maxSessions: the least recently written goes first', () => {
    const store = new InMemorySessionStore({ maxSessions: 2 });
    const k = (id: string) => ({ tenant: 't', caller: 'k', id });
    store.set(k('1'), state('a'), 60_000);
    store.set(k('2'), state('a'), 60_000);
    store.set(k('1'), state('b'), 60_000); // rewritten: now the newest
    store.set(k('3'), state('a'), 60_000);
    assert.equal(store.size, 2);
    assert.equal(store.get(k('2')), undefined);
    assert.equal(store.get(k('1'))?.target, 'b');
  });

  it('keys keep tenant, caller and id apart whatever characters they hold, the tenant as the hash tag', () => {
    assert.notEqual(sessionStoreKey({ tenant: 'a:b', caller: 'c', id: 'd' }), sessionStoreKey({ tenant: 'a', caller: 'b:c', id: 'd' }));
    assert.equal(sessionStoreKey({ tenant: 'a}', caller: 'c', id: 'd' }), '{a%7D}:c:d');
  });
});
