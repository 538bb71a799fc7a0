import type { Cluster, Redis } from 'ioredis';
import type { RedisScript } from './redis-script.js';
import { WriteCoalescingRedis } from './write-coalescing-redis.js';

/** A kind of entry a batch script runs: how many reply values it answers, and what they mean to its caller. */
export interface BatchedStep<R, C> {
  readonly width: number;
  decode(values: readonly number[], at: number, context: C): R;
}

/** One caller's entry: its step, what decoding needs, and its promise's ends. */
export interface Entry {
  readonly step: BatchedStep<unknown, unknown>;
  readonly context: unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** The entries of one group (one Cluster slot) gathered in this pass of the event loop. */
interface Batch {
  readonly keys: Array<string | number>;
  /** Each key set's index in `keys` (in sets), by identity: callers hand the same array for the same keys. */
  readonly keySets: Map<readonly string[], number>;
  readonly args: Array<string | number>;
  readonly entries: Entry[];
}

/**
 * The script calls of one pass of the event loop, sent as one script call per
 * group: ioredis then builds one command, parses one reply and settles one
 * promise where each call took its own. Each entry keeps its own atomic step
 * (the script runs them one after the other, in the order they were asked,
 * each under `pcall`): an entry that fails answers its error to its own
 * caller only, and a call that fails whole (Redis away, a timeout) answers
 * its error to every caller in it, as each command would have.
 *
 * The script's contract: KEYS are distinct key sets of `keysPerSet` keys;
 * ARGV is, per entry, its key set's index (from 0) then its arguments; the
 * reply is one string of every entry's `width` integers in order (any other
 * character separates them: one value for the client to decode, not one per
 * integer), or, when a step failed, an array of one such string per entry,
 * a failed entry's being its error message after '!'. The reply is read as
 * it came, in bytes (a Buffer, not decoded to a string): in the production
 * gateway, callgrind found each `charCodeAt` of the decoded reply on V8's
 * slow property-lookup path (~125 instructions a character); its bytes read
 * about ten times cheaper. Entries go out at the end of the pass (the check phase,
 * when the coalescing connection writes anyway) or when `flush` is called.
 */
export class ScriptBatch {
  private readonly batches = new Map<string, Batch>();
  private scheduled = false;
  /** Entries sent in this pass so far (early ones included), and in the last pass that had any. */
  private sentInPass = 0;
  private sentLastPass = 0;
  private readonly flushAll = (): void => {
    this.scheduled = false;
    this.flush();
    this.sentLastPass = this.sentInPass;
    this.sentInPass = 0;
  };

  constructor(
    private readonly client: Redis | Cluster,
    private readonly script: RedisScript,
    private readonly keysPerSet: number,
    /** Entries per script call at most: a longer pass is sent in several. */
    private readonly maxEntries = 256,
  ) {}

  /** `group`: entries of different groups never share a call (a Cluster's slots). `keys` must be `keysPerSet` long. */
  add<R, C>(group: string, keys: readonly string[], step: BatchedStep<R, C>, context: C, args: ReadonlyArray<string | number>): Promise<R> {
    let batch = this.batches.get(group);
    if (batch === undefined) {
      batch = { keys: [], keySets: new Map(), args: [], entries: [] };
      this.batches.set(group, batch);
    }
    let set = batch.keySets.get(keys);
    if (set === undefined) {
      set = batch.keySets.size;
      batch.keySets.set(keys, set);
      for (const key of keys) batch.keys.push(key);
    }
    batch.args.push(set);
    for (const arg of args) batch.args.push(arg);
    const promise = new Promise<R>((resolve, reject) => {
      batch.entries.push({ step: step as BatchedStep<unknown, unknown>, context, resolve: resolve as (value: unknown) => void, reject });
    });
    if (batch.entries.length >= this.maxEntries) this.send(group, batch);
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushAll);
    }
    return promise;
  }

  /**
   * Calls come one at a time: nothing waits for the end of this pass, nothing was sent in it yet, and the last pass
   * sent one entry at most. Several steps ending in one pass (or the pass before) are load: they share a script call.
   */
  get quiet(): boolean {
    return this.sentInPass === 0 && this.sentLastPass <= 1 && this.batches.size === 0;
  }

  /** Sends every entry waiting, now (before a command that must come after them on the connection). */
  flush(): void {
    if (this.batches.size === 0) return;
    for (const [group, batch] of this.batches) this.send(group, batch);
    // In the check phase the coalescing connection may have written already: this pass's batches go now, not a pass later.
    if (this.client instanceof WriteCoalescingRedis) this.client.writeNow();
  }

  private send(group: string, batch: Batch): void {
    this.batches.delete(group);
    const { entries } = batch;
    this.sentInPass += entries.length;
    this.script.run<Buffer | Buffer[]>(this.client, batch.keys.concat(batch.args), batch.keySets.size * this.keysPerSet, null).then(
      (reply) => {
        // A reply this code cannot read (a step's decode throwing) rejects the entries still waiting, not the process.
        try {
          answer(entries, reply);
        } catch (err) {
          rejectEvery(entries, err);
        }
      },
      (err: unknown) => rejectEvery(entries, err),
    );
  }
}

/** Hands each entry its part of the script's reply (see the class's contract). */
export function answer(entries: readonly Entry[], reply: Buffer | readonly (Buffer | null)[] | null): void {
  if (Buffer.isBuffer(reply)) {
    const values = integersIn(reply);
    let needed = 0;
    for (const entry of entries) needed += entry.step.width;
    // A reply of another length (a script of another build under the same name) would hand callers undefined figures.
    if (values.length !== needed) return rejectEvery(entries, new Error(`the batch script answered ${values.length} figures for ${needed}`));
    let at = 0;
    for (const entry of entries) {
      entry.resolve(entry.step.decode(values, at, entry.context));
      at += entry.step.width;
    }
    return;
  }
  if (!Array.isArray(reply)) return rejectEvery(entries, new Error('the batch script answered nothing'));
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const bytes = reply[i];
    if (!Buffer.isBuffer(bytes)) entry.reject(new Error('no answer'));
    else if (bytes[0] === EXCLAMATION_MARK) entry.reject(new Error(bytes.toString('utf8', 1)));
    else {
      const values = integersIn(bytes);
      if (values.length !== entry.step.width) entry.reject(new Error(`the batch script answered ${values.length} figures for ${entry.step.width}`));
      else entry.resolve(entry.step.decode(values, 0, entry.context));
    }
  }
}

function rejectEvery(entries: readonly Entry[], err: unknown): void {
  for (const entry of entries) entry.reject(err);
}

const EXCLAMATION_MARK = 33;

/** The integers written in `text` (ASCII bytes), in order; any character but a digit or a minus sign separates them. */
export function integersIn(text: Uint8Array): number[] {
  const out: number[] = [];
  let n = 0;
  let negative = false;
  let digits = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits = true;
    } else if (c === 45) negative = true;
    else {
      if (digits) out.push(negative ? -n : n);
      n = 0;
      negative = false;
      digits = false;
    }
  }
  if (digits) out.push(negative ? -n : n);
  return out;
}
