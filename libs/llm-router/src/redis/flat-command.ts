import { Command } from 'ioredis';

/** Its own `flat`, answering itself: what the Command constructor calls on its arguments. */
function alreadyFlat<T>(this: T[]): T[] {
  return this;
}

/**
 * A command on arguments that are flat already. Every command ioredis builds
 * copies its arguments with `Array.prototype.flat`, which costs Node 20 about
 * 2k instructions per argument (a runtime call each): a command that is
 * handed a flat array is spared the copy. Its reply's strings are decoded as
 * `replyEncoding` (null: Buffers, as they came).
 */
export function flatCommand(name: string, args: Array<string | number>, replyEncoding: BufferEncoding | null = 'utf8'): Command {
  (args as unknown as { flat: typeof alreadyFlat }).flat = alreadyFlat;
  return new Command(name, args, { replyEncoding });
}
