import type { Socket } from 'node:net';
import { Redis, type Command, type RedisOptions } from 'ioredis';
import { flatCommand } from './flat-command.js';

/**
 * A Redis connection that sends the commands issued during one pass of the
 * event loop in one socket write. The first command of a pass corks the
 * socket; the loop's check phase (setImmediate) uncorks it, and the commands
 * queued behind it go out together, in the order they were issued; Redis
 * reads them at once and answers them in one write. Under load the budget
 * reads, reserves and settles of many calls then share a write, where each
 * took a write system call of its own: the largest part of what a command
 * cost the gateway (a third of its CPU time per budgeted call).
 *
 * A command waits at most for the end of the pass: the poll phase does not
 * block while an immediate is pending. Commands named in `writeAtOnce` are
 * written at once, and with them every command waiting before them, so the
 * order on the connection never changes. Nothing is held while the
 * connection is not ready (those commands queue in the client as before),
 * nor on a pipeline's own stream. Inside `together`, a writeAtOnce command
 * waits for the end of the step, so what the step sends after it shares its write;
 * a `writeAtStepEnd` command does the same inside a step and waits for the end
 * of the pass outside one, where `afterWrite` tells its caller when it went out.
 */
export class WriteCoalescingRedis extends Redis {
  /** The socket corked in this pass of the loop, until the check phase. */
  private corked: Socket | undefined;
  private readonly writeAtOnce: ReadonlySet<string>;
  private readonly writeAtStepEnd: ReadonlySet<string>;
  /** What waits for this pass's write (`afterWrite`): run right after it. */
  private afterUncork: Array<() => void> | undefined;
  /** A `together` step is running: writeAtOnce commands wait for its end. */
  private holding = false;
  /** A writeAtOnce command was issued in the running step: written at its end. */
  private owed = false;
  private readonly uncork = (): void => {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
    const waiting = this.afterUncork;
    if (waiting === undefined) return;
    this.afterUncork = undefined;
    runAll(waiting);
  };

  constructor(
    url: string,
    options: Pick<RedisOptions, 'maxRetriesPerRequest' | 'connectTimeout' | 'commandTimeout'>,
    writeAtOnce: readonly string[] = [],
    writeAtStepEnd: readonly string[] = [],
  ) {
    super(url, options);
    this.writeAtOnce = new Set(writeAtOnce.map((name) => name.toLowerCase()));
    this.writeAtStepEnd = new Set(writeAtStepEnd.map((name) => name.toLowerCase()));
  }

  /**
   * Runs `then` once what this pass holds is written to the socket (the
   * commands issued so far, with the rest of the pass's), or now when nothing
   * is held: for a caller that must not go on before a command is on its way.
   * A callback that throws is reported as a process warning.
   */
  afterWrite(then: () => void): void {
    if (this.corked === undefined) return then();
    (this.afterUncork ??= []).push(then);
  }

  /**
   * Sends `name` on `args` as they are: flat already (strings and numbers),
   * so spared the copy every command method makes of its arguments
   * (flat-command.ts; the array is taken over). The client's `keyPrefix`
   * (an option, or `?keyPrefix=` in the URL) goes before its keys, as with
   * the command methods. For commands issued per call.
   */
  sendFlat<T>(name: string, args: Array<string | number>): Promise<T> {
    // Lower case, as the command methods name theirs: `writeAtOnce` matches the name.
    const command = flatCommand(name.toLowerCase(), args, 'utf8', this.options.keyPrefix);
    void this.sendCommand(command);
    return command.promise as Promise<T>;
  }

  /** Writes what this pass corked, now: for commands issued in the check phase, after the pass's own write went. */
  writeNow(): void {
    this.uncork();
  }

  /**
   * Runs `step`; a writeAtOnce command it issues is written when it returns,
   * not at once, in one write with what the step issued after it and what
   * `beforeWrite` sends then (still before the step's caller goes on). A step
   * that issues none leaves its commands to the end of the pass, as usual.
   */
  together(step: () => void, beforeWrite: () => void): void {
    if (this.holding) return step();
    this.holding = true;
    try {
      step();
    } finally {
      this.holding = false;
      if (this.owed) {
        this.owed = false;
        try {
          beforeWrite();
        } finally {
          this.uncork();
        }
      }
    }
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    // Unset only while the base constructor runs: nothing is held then.
    if (this.writeAtOnce === undefined) return super.sendCommand(command, stream);
    const atOnce = this.writeAtOnce.has(command.name);
    const held = this.holding && (atOnce || this.writeAtStepEnd.has(command.name));
    if (stream === undefined && (!atOnce || held) && this.corked === undefined && this.status === 'ready') {
      const socket = this.stream as Socket | undefined;
      if (socket?.writable) {
        socket.cork();
        this.corked = socket;
        // A held command's step uncorks when it returns (`together`): no end-of-pass write to schedule.
        if (!held) setImmediate(this.uncork);
      }
    }
    // Owed before the send: a send that throws must still leave the step's end to uncork (and run what waits on `afterWrite`).
    if (held) this.owed ||= this.corked !== undefined;
    const sent = super.sendCommand(command, stream);
    if (!held && atOnce) this.uncork();
    return sent;
  }
}

/**
 * Runs every callback, each even if one before it throws. An error is reported as a process warning, not thrown: the
 * uncork runs in the check phase, at a step's end or in `writeNow`, where it would crash the process or fail an
 * unrelated call.
 */
function runAll(callbacks: ReadonlyArray<() => void>): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch (err) {
      process.emitWarning(`an afterWrite callback threw: ${err instanceof Error ? err.message : String(err)}`, 'WriteCoalescingRedisWarning');
    }
  }
}
