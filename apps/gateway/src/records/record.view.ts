import type { StoredRecord } from '../store/gateway-store.js';

/** A stored routing record as the API shows it: times in ISO, the plan (planned route, exclusions, floor) unpacked. */
export function recordView(record: StoredRecord): Record<string, unknown> {
  const { id: _rowId, startedAt, detail, ...fields } = record;
  let plan: unknown = null;
  try {
    plan = JSON.parse(detail);
  } catch {
    plan = detail;
  }
  return { object: 'routing.record', ...fields, startedAt: new Date(startedAt).toISOString(), plan };
}
