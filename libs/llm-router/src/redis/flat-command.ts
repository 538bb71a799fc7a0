import { Command } from 'ioredis';

/** Its own `flat`, answering itself: what the Command constructor calls on its arguments. */
function alreadyFlat<T>(this: T[]): T[] {
  return this;
}

/**
 * A command on arguments that are flat already. Every command ioredis builds
 * copies its arguments with `Array.prototype.flat`, which costs Node 20 about
 * 2k instructions per argument (a runtime call each): a command that is
 * handed a flat array is spared the copy.
 */
export function flatCommand(name: string, args: Array<string | number>): Command {
  (args as unknown as { flat: typeof alreadyFlat }).flat = alreadyFlat;
  return new Command(name, args, { replyEncoding: 'utf8' });
}
