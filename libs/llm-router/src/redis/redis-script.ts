import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { flatCommand } from './flat-command.js';

/**
 * A Lua script run by EVALSHA, and by EVAL when the server does not have it
 * (a restart, a failover, SCRIPT FLUSH): EVAL loads it for the next time.
 *
 * Built on a flat command (flat-command.ts) rather than `defineCommand`: a
 * budgeted call's steps send some fifty arguments (its key sets and
 * figures), flat already, so the command takes them as they are.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    private readonly lua: string,
    private readonly numberOfKeys: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /**
   * `keysAndArgs`: the script's keys (`numberOfKeys` of them: the script's own unless given), then its arguments.
   * `replyEncoding`: how the reply's strings are decoded (null: as Buffers).
   */
  run<T>(client: Redis | Cluster, keysAndArgs: Array<string | number>, numberOfKeys = this.numberOfKeys, replyEncoding: BufferEncoding | null = 'utf8'): Promise<T> {
    const evalsha = flatCommand('evalsha', [this.sha, numberOfKeys, ...keysAndArgs], replyEncoding);
    void client.sendCommand(evalsha);
    return (evalsha.promise as Promise<T>).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      const load = flatCommand('eval', [this.lua, numberOfKeys, ...keysAndArgs], replyEncoding);
      void client.sendCommand(load);
      return load.promise as Promise<T>;
    });
  }
}

