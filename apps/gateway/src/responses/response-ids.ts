import { randomBytes } from 'node:crypto';

/** OpenAI-style ids: a type prefix and 48 random hex digits (`resp_…`, `msg_…`, `fc_…`). */
export function newId(prefix: 'resp' | 'msg' | 'fc'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}
