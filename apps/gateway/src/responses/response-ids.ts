import { randomBytes } from 'node:crypto';

/** OpenAI-style ids: a type prefix and 48 random hex digits (`resp_…`, `msg_…`, `fc_…`, `fco_…` for a function call's output). */
export function newId(prefix: 'resp' | 'msg' | 'fc' | 'fco'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}
