import { z } from 'zod';
import { invalidValue } from '../errors/invalid-value.js';
import type { DeferredCallFilter } from '../store/gateway-store.js';

const listingSchema = z.strictObject({
  tenant: z.string().min(1).max(200).optional(),
  status: z.enum(['pending', 'completed', 'failed', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  // A deferred call's id, as the previous page's last_id gave it.
  after: z.string().min(1).max(64).optional(),
});

export interface DeferredListing {
  filter: DeferredCallFilter;
  limit: number;
  after?: string;
}

/** `GET /admin/deferred?tenant=&status=&limit=&after=`: a bad value is a 400 naming it. */
export function parseDeferredListing(query: Record<string, unknown>): DeferredListing {
  const parsed = listingSchema.safeParse(query);
  if (!parsed.success) throw invalidValue(parsed.error);
  const { tenant, status, limit, after } = parsed.data;
  const filter: DeferredCallFilter = {};
  if (tenant !== undefined) filter.tenant = tenant;
  if (status !== undefined) filter.status = status;
  return after === undefined ? { filter, limit } : { filter, limit, after };
}
