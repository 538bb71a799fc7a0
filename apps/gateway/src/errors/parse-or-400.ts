import type { z } from 'zod';
import { invalidValue } from './invalid-value.js';

/** `value` as `schema` reads it, or a 400 in the OpenAI shape naming the first offending field (as `invalidValue` names it). */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw invalidValue(parsed.error);
  return parsed.data;
}
