import 'ioredis';

/**
 * Loading ioredis 6 leaves `String.prototype` with slow (dictionary) properties for the process's life: its RESP3
 * `class VerbatimString extends String` (resp/verbatim-string.js) makes V8 normalize the prototype it extends, and
 * only an inline-cache miss on an object whose chain holds it (never a string primitive's) makes it fast again. Until
 * then optimized code reaches every string method (`charCodeAt`, `slice`, `toLowerCase`...) through the generic
 * load IC: callgrind counted the production gateway's main thread at 84k instructions per request in `LoadIC`
 * against the embedded one's 20k, and the API key check's compare at ~28k per call against ~11k. A property stored on
 * a String wrapper, once, after ioredis has loaded, is such a miss: V8 makes the prototype fast again. Imported by
 * flat-command.ts, which the one other file of this folder that loads ioredis as a value (write-coalescing-redis.ts)
 * imports too (a side effect only; ioredis 5 has no such class, and this is harmless).
 */
const wrapper = new String('') as String & { fastPrototype?: boolean };
wrapper.fastPrototype = true;
