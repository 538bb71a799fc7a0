import { createHash } from 'node:crypto';
import { Command, type Cluster, type Redis } from 'ioredis';

/**
 * A Lua script run by EVALSHA, and by EVAL when the server does not have it
 * (a restart, a failover, SCRIPT FLUSH): EVAL loads it for the next time.
 *
 * Built on ioredis's Command rather than `defineCommand`: every command
 * ioredis builds copies its arguments with `Array.prototype.flat`, which
 * costs Node 20 about 0.3 µs per argument, and a budgeted call sends some
 * fifty (three scripts of eight keys each). The arguments given to `run`
 * are flat already, so the command takes them as they are.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    private readonly lua: string,
    private readonly numberOfKeys: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** `keysAndArgs`: the script's keys (`numberOfKeys` of them: the script's own unless given), then its arguments. */
  run<T>(client: Redis | Cluster, keysAndArgs: Array<string | number>, numberOfKeys = this.numberOfKeys): Promise<T> {
    const evalsha = flatCommand('evalsha', [this.sha, numberOfKeys, ...keysAndArgs]);
    void client.sendCommand(evalsha);
    return (evalsha.promise as Promise<T>).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      const load = flatCommand('eval', [this.lua, numberOfKeys, ...keysAndArgs]);
      void client.sendCommand(load);
      return load.promise as Promise<T>;
    });
  }
}

/** Its own `flat`, answering itself: what the Command constructor calls on its arguments. */
function alreadyFlat<T>(this: T[]): T[] {
  return this;
}

/** A command on arguments that are flat already (see RedisScript). */
function flatCommand(name: string, args: Array<string | number>): Command {
  (args as unknown as { flat: typeof alreadyFlat }).flat = alreadyFlat;
  return new Command(name, args, { replyEncoding: 'utf8' });
}
