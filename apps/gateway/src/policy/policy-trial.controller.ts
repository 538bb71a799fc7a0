import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody } from '../admin/admin-requests.js';
import { openAiError } from '../errors/openai-error.js';
import { resolveRange } from '../usage/time-range.js';
import { compileCandidate } from './policy-candidate.js';
import { policyRefusal } from './policy-refusal.js';
import { PolicySimulator } from './policy-simulator.service.js';
import { ShadowPolicy } from './shadow-policy.service.js';

const simulateSchema = z.strictObject({
  /** The candidate: a JSON policy document, or YAML as a string. */
  policy: z.union([z.string(), z.record(z.string(), z.unknown())]),
  from: z.string().optional(),
  to: z.string().optional(),
  /** The newest this many records of the range. */
  last: z.number().int().min(1).max(10_000).default(1_000),
  /** Changed requests shown in detail. */
  sample: z.number().int().min(0).max(200).default(20),
});

/** Try a policy before it is live: on recorded traffic (simulate), or beside the live one (shadow). */
@Controller('admin/policy')
export class PolicyTrialController {
  constructor(
    private readonly simulator: PolicySimulator,
    private readonly shadow: ShadowPolicy,
  ) {}

  @Post('simulate')
  @HttpCode(200)
  async simulate(@Body() body: unknown) {
    const input = parseBody(simulateSchema, body);
    const range = resolveRange({ from: input.from, to: input.to, period: 'all' });
    const candidate = compile(input.policy, 'candidate policy (simulate)', 'policy');
    return this.simulator.simulate(candidate, { range, last: input.last, sample: input.sample });
  }

  /** Set (or replace) the shadow policy: a JSON or YAML document, as PUT /admin/policy takes. */
  @Put('shadow')
  setShadow(@Body() body: unknown) {
    this.shadow.set(compile(body, 'shadow policy'));
    return this.shadow.report();
  }

  @Get('shadow')
  shadowReport() {
    const report = this.shadow.report();
    if (report === undefined) throw noShadow();
    return report;
  }

  @Delete('shadow')
  clearShadow() {
    const report = this.shadow.report();
    if (!this.shadow.clear()) throw noShadow();
    return { removed: true, last: report };
  }
}

function compile(body: unknown, label: string, param?: string) {
  try {
    return compileCandidate(body, label, param);
  } catch (err) {
    throw policyRefusal(err);
  }
}

function noShadow(): NotFoundException {
  return new NotFoundException(openAiError('No shadow policy is set: PUT /admin/policy/shadow sets one.', 'invalid_request_error', 'shadow_policy_not_found'));
}
