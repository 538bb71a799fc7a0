import { Command } from 'ioredis';
import './fast-string-prototype.js';

/** Its own `flat`, answering itself: what the Command constructor calls on its arguments. */
function alreadyFlat<T>(this: T[]): T[] {
  return this;
}

/**
 * A command on arguments that are flat already. Every command ioredis builds
 * copies its arguments with `Array.prototype.flat`, which costs Node 20 about
 * 2k instructions per argument (a runtime call each): a command that is
 * handed a flat array is spared the copy. The array is taken over (it gets a
 * `flat` of its own, and ioredis turns its numbers into strings): pass a
 * fresh one. Its reply's strings are decoded as `replyEncoding` (null:
 * Buffers, as they came); `keyPrefix` is put before its keys, as a command
 * method of a client with that option would.
 */
export function flatCommand(name: string, args: Array<string | number>, replyEncoding: BufferEncoding | null = 'utf8', keyPrefix?: string): Command {
  (args as unknown as { flat: typeof alreadyFlat }).flat = alreadyFlat;
  return new Command(name, args, keyPrefix ? { replyEncoding, keyPrefix } : { replyEncoding });
}
