import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key format: `llmr_<id>_<secret>`.
 * - `id`: 12 lower-case base-32 characters, public: it names the key in
 *   listings, logs and records, and finds it in the in-memory map;
 * - `secret`: 32 random bytes, base64url (43 characters).
 * Only the SHA-256 of the whole key is stored; a presented key is hashed and
 * compared with the stored hash in constant time.
 */
export const KEY_PREFIX = 'llmr_';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 12;
const KEY_PATTERN = /^llmr_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedKey {
  readonly id: string;
  /** Shown once, to the creator. */
  readonly secret: string;
  readonly hash: string;
}

export function generateApiKey(): GeneratedKey {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[bytes[i]! & 31];
  const secret = `${KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { id, secret, hash: hashApiKey(secret) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The key id of a well-formed key; undefined for anything else (never throws, never echoes). */
export function keyIdOf(presented: string): string | undefined {
  if (presented.length !== 61) return undefined;
  const m = KEY_PATTERN.exec(presented);
  return m ? m[1] : undefined;
}

/**
 * Constant-time check of a presented key against a stored hash (lower-case hex
 * SHA-256). The digest is compared as hex text, without a Buffer for it: half
 * the cost of the Buffer digest and timingSafeEqual, on every request.
 */
export function keyMatches(presented: string, storedHashHex: string): boolean {
  const digest = hash('sha256', presented);
  if (digest.length !== storedHashHex.length) return false;
  let diff = 0;
  for (let i = 0; i < digest.length; i++) diff |= digest.charCodeAt(i) ^ storedHashHex.charCodeAt(i);
  return diff === 0;
}

/** `Authorization: Bearer <token>` → token; anything else → undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.length < 8) return undefined;
  if (value.charCodeAt(6) !== 32 || value.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const token = value.slice(7).trim();
  return token === '' ? undefined : token;
}

/** Constant-time equality of two secrets of any length (compares their SHA-256). */
export function secretsEqual(a: string, b: string): boolean {
  const da = hash('sha256', a, 'buffer');
  const db = hash('sha256', b, 'buffer');
  return timingSafeEqual(da, db);
}
