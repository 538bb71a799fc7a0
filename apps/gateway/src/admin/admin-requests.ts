import { BadRequestException } from '@nestjs/common';
import { CRITICALITIES } from '@llm-router/nestjs';
import { z } from 'zod';
import { openAiError } from '../errors/openai-error.js';
import { parseOr400 } from '../errors/parse-or-400.js';

const name = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/, 'letters, digits and . _ : @ / - only');
const period = z.enum(['month', 'week', 'day']);
const share = z.number().gt(0).lte(1);
const MAX_KEY_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

export const createKeySchema = z
  .strictObject({
    tenant: name,
    name: z.string().min(1).max(200).optional(),
    /** Omit (or null) for every class. */
    allowedClasses: z.array(name).min(1).max(100).nullable().optional(),
    defaultClass: name.nullable().optional(),
    /** Omit (or null) for every model the allowed classes route to. */
    allowedModels: z.array(name).min(1).max(200).nullable().optional(),
    /** The key's own budget, on top of the tenant's. */
    budget: z.strictObject({ budgetUsd: z.number().positive(), period: period.default('month') }).nullable().optional(),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
    // Ten years at most: an expiry must stay a valid date.
    expiresInSeconds: z.number().int().positive().max(MAX_KEY_LIFETIME_SECONDS).optional(),
  })
  .refine((v) => !(v.expiresAt && v.expiresInSeconds), { message: 'give expiresAt or expiresInSeconds, not both', path: ['expiresAt'] });

export type CreateKeyBody = z.output<typeof createKeySchema>;

export const tenantBudgetSchema = z.strictObject({
  budgetUsd: z.number().positive(),
  period: period.optional(),
  dailyCapUsd: z.number().positive().optional(),
  thresholds: z
    .strictObject({ notice: share.optional(), downgrade: share.optional(), restrict: share.optional() })
    .refine((t) => (t.notice ?? 0) <= (t.downgrade ?? 1) && (t.downgrade ?? 0) <= (t.restrict ?? 1), { message: 'thresholds must be ordered: notice <= downgrade <= restrict' })
    .optional(),
  downgradeCriticalities: z.array(z.enum(CRITICALITIES)).optional(),
  restrictCriticalities: z.array(z.enum(CRITICALITIES)).optional(),
});

export type TenantBudgetBody = z.output<typeof tenantBudgetSchema>;

/** Validate an admin body; a failure names the offending field, in the OpenAI error shape. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(openAiError('The request body must be a JSON object.', 'invalid_request_error', 'invalid_body'));
  }
  return parseOr400(schema, body);
}
