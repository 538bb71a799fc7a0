import { BadRequestException } from '@nestjs/common';
import { openAiError } from '../errors/openai-error.js';
import type { Principal } from './key-scope.js';

/** The caller's tenant: its key's, or with authentication disabled its `x-tenant-id` header (400 without one). */
export function requiredTenant(principal: Principal | null): string {
  const tenant = principal?.tenant;
  if (tenant === undefined) {
    throw new BadRequestException(openAiError('No tenant: with authentication disabled, name it in the x-tenant-id header.', 'invalid_request_error', 'missing_tenant', 'x-tenant-id'));
  }
  return tenant;
}
