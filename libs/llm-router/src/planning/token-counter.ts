import { Worker } from 'node:worker_threads';
import type { TokenizerEncoding } from '../policy/tokenizer-encoding.js';
import { textTokens } from '../chat/text-tokens.js';
import type { CountReply, CountRequest } from './token-count.protocol.js';

/** Texts longer than this are never cached (their counts still teach the ratio). */
const MAX_CACHED_TEXT_CHARS = 32_768;
/** Characters of cached texts kept, all encodings together (oldest dropped first): about 8 MB. */
const MAX_CACHED_CHARS = 4_000_000;
/** Characters queued or being counted at once; beyond it texts are not queued (their estimate stays by script). */
const MAX_PENDING_CHARS = 1_000_000;
/** Sent to the tokenizer thread per text, at most: it tokenizes 16 KB and extrapolates. */
const MAX_SENT_CHARS = 16_384;
/** Weight of a new tokenizer / script ratio in the running one. */
const RATIO_WEIGHT = 0.2;

interface Pending {
  readonly encoding: TokenizerEncoding;
  readonly text: string;
  /** Cache the count under `text` (short texts); long ones only teach the ratio. */
  readonly cache: boolean;
}

/**
 * Counts prompt texts with the tokenizer of a model's family without ever
 * tokenizing on the event loop. `count` answers at once: the exact count of a
 * text already counted (system prompts, few-shot examples and tool schemas
 * repeat from call to call), else the estimate by script times the ratio the
 * tokenizer has shown for that encoding so far; the text is then queued for
 * the tokenizer thread, which is started, and loads each encoding, on first
 * use. Bounded: a text costs at most 16 KB of tokenizing, the cache ~8 MB, the
 * queue 1 M characters (beyond it texts are not queued). The thread never
 * keeps the process alive, and a thread that fails leaves the estimates by
 * script.
 */
export class TokenCounter {
  private worker?: Worker;
  private broken = false;
  private readonly caches = new Map<TokenizerEncoding, Map<string, number>>();
  private cachedChars = 0;
  /** Per encoding: tokenizer tokens per token estimated by script, learned from the texts counted. */
  private readonly ratios = new Map<TokenizerEncoding, number>();
  private queue: Array<Pending & { readonly id: number }> = [];
  private readonly inFlight = new Map<number, Pending>();
  /** Texts queued or in flight per encoding: one count per text, however often it is asked for meanwhile. */
  private readonly pendingTexts = new Map<TokenizerEncoding, Set<string>>();
  private pendingChars = 0;
  private nextId = 0;
  private flushScheduled = false;
  private idleWaiters: Array<() => void> = [];

  /** Tokens of `text` by `encoding`: exact once counted, the estimate by script (times the learned ratio) until then. */
  count(encoding: TokenizerEncoding, text: string): number {
    const counted = this.caches.get(encoding)?.get(text);
    if (counted !== undefined) return counted;
    this.enqueue(encoding, text);
    return textTokens(text) * (this.ratios.get(encoding) ?? 1);
  }

  /** Tokenizer tokens per token estimated by script, for `encoding`, as learned so far (1 before any count). */
  ratio(encoding: TokenizerEncoding): number {
    return this.ratios.get(encoding) ?? 1;
  }

  /** Resolves once every text queued so far has been counted (or the tokenizer thread failed). */
  settled(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the tokenizer thread; later counts stay estimates by script. */
  close(): void {
    this.broken = true;
    void this.worker?.terminate();
    this.worker = undefined;
    this.drop();
  }

  private enqueue(encoding: TokenizerEncoding, text: string): void {
    if (this.broken || text.length === 0) return;
    let pending = this.pendingTexts.get(encoding);
    if (pending?.has(text)) return;
    const sent = text.length > MAX_SENT_CHARS ? text.slice(0, MAX_SENT_CHARS) : text;
    if (this.pendingChars + sent.length > MAX_PENDING_CHARS) return;
    const cache = text.length <= MAX_CACHED_TEXT_CHARS;
    if (cache) {
      if (!pending) this.pendingTexts.set(encoding, (pending = new Set()));
      pending.add(text);
    }
    this.pendingChars += sent.length;
    this.queue.push({ id: this.nextId++, encoding, text: sent, cache });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.broken || this.queue.length === 0) return;
    const worker = this.startWorker();
    const texts = this.queue;
    this.queue = [];
    for (const t of texts) this.inFlight.set(t.id, t);
    worker.postMessage({ texts: texts.map(({ id, encoding, text }) => ({ id, encoding, text })) } satisfies CountRequest);
  }

  private startWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./token-count.worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (reply: CountReply) => this.onCounts(reply));
    const fail = () => {
      if (this.worker !== worker) return;
      this.broken = true;
      this.worker = undefined;
      this.drop();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }

  private onCounts(reply: CountReply): void {
    for (const { id, tokens } of reply.counts) {
      const t = this.inFlight.get(id);
      if (!t) continue;
      this.inFlight.delete(id);
      this.pendingChars -= t.text.length;
      if (t.cache) this.pendingTexts.get(t.encoding)?.delete(t.text);
      if (tokens < 0) continue;
      const byScript = textTokens(t.text);
      if (byScript > 0) {
        const sample = Math.min(4, Math.max(0.25, tokens / byScript));
        const ratio = this.ratios.get(t.encoding);
        this.ratios.set(t.encoding, ratio === undefined ? sample : ratio + RATIO_WEIGHT * (sample - ratio));
      }
      if (t.cache) this.remember(t.encoding, t.text, tokens);
    }
    this.wakeIfIdle();
  }

  private remember(encoding: TokenizerEncoding, text: string, tokens: number): void {
    let cache = this.caches.get(encoding);
    if (!cache) this.caches.set(encoding, (cache = new Map()));
    cache.set(text, tokens);
    this.cachedChars += text.length;
    // Oldest first, across encodings (a Map iterates in insertion order).
    for (const c of this.caches.values()) {
      for (const key of c.keys()) {
        if (this.cachedChars <= MAX_CACHED_CHARS) return;
        c.delete(key);
        this.cachedChars -= key.length;
      }
    }
  }

  private drop(): void {
    this.queue = [];
    this.inFlight.clear();
    this.pendingTexts.clear();
    this.pendingChars = 0;
    this.wakeIfIdle();
  }

  private wakeIfIdle(): void {
    if (this.queue.length > 0 || this.inFlight.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
