import { randomUUID } from 'node:crypto';

let prefixMs = -1;
let prefix = '';

/**
 * A new request id: a UUID version 7 (RFC 9562), the millisecond timestamp in
 * its first 48 bits, the rest random. Ids made later sort later, so a store's
 * index on request ids grows at its right edge: random (version 4) ids land on
 * a random index page each, and SQLite in WAL mode rewrites every page a batch
 * touched (measured: 50-70 µs per routing record with random ids, ~22 µs with
 * these, rising with the table for the former).
 */
export function newRequestId(): string {
  const now = Date.now();
  if (now !== prefixMs) {
    prefixMs = now;
    const hex = now.toString(16).padStart(12, '0');
    prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7`;
  }
  // randomUUID: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; from index 15 on it is random, variant bits included.
  return prefix + randomUUID().slice(15);
}
