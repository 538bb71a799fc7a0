import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Put, Query } from '@nestjs/common';
import { LlmRouter } from '@llm-router/nestjs';
import { ApiKeyService } from '../auth/api-key.service.js';
import { resolveScope } from '../auth/key-scope.js';
import { GatewayBudgetsService } from '../budgets/gateway-budgets.service.js';
import { openAiError } from '../errors/openai-error.js';
import { resolveRange } from '../usage/time-range.js';
import { budgetView, MAX_SERIES_BUCKETS, UsageService } from '../usage/usage.service.js';
import { createKeySchema, parseBody, tenantBudgetSchema } from './admin-requests.js';
import { invalid } from '../errors/invalid-value.js';

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/**
 * The admin API, behind `Authorization: Bearer $LLM_ADMIN_KEY` (checked by
 * the auth hook): API keys, tenant budgets, usage of any tenant, and the
 * cross-tenant report.
 */
@Controller('admin')
export class AdminController {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly budgets: GatewayBudgetsService,
    private readonly usage: UsageService,
    private readonly router: LlmRouter,
  ) {}

  /** Create a key. The response is the only time the secret is shown. */
  @Post('keys')
  @HttpCode(201)
  async createKey(@Body() body: unknown) {
    const input = parseBody(createKeySchema, body);
    const policy = this.router.policy;
    for (const [i, c] of (input.allowedClasses ?? []).entries()) {
      if (!policy.classes.has(c)) throw invalid(`Unknown traffic class "${c}". Classes: ${[...policy.classes.keys()].join(', ')}.`, `allowedClasses.${i}`);
    }
    for (const [i, m] of (input.allowedModels ?? []).entries()) {
      if (!policy.models.has(m)) throw invalid(`Unknown model "${m}". Models: ${[...policy.models.keys()].join(', ')}.`, `allowedModels.${i}`);
    }
    const scope = resolveScope(policy, input.allowedClasses ?? null, input.allowedModels ?? null, input.defaultClass ?? null);
    if (scope.classes.size === 0) {
      throw invalid('This key could use no traffic class: every allowed class routes to a model outside allowedModels.', 'allowedModels');
    }
    if (input.defaultClass != null && !scope.classes.has(input.defaultClass)) {
      throw invalid(`defaultClass "${input.defaultClass}" is not one of the classes this key may use: ${[...scope.classes].join(', ')}.`, 'defaultClass');
    }
    const expiresAt = input.expiresInSeconds !== undefined ? Date.now() + input.expiresInSeconds * 1000 : input.expiresAt ? Date.parse(input.expiresAt) : null;
    const { key, secret } = await this.keys.create({
      tenant: input.tenant,
      name: input.name ?? null,
      allowedClasses: input.allowedClasses ?? null,
      defaultClass: input.defaultClass ?? null,
      allowedModels: input.allowedModels ?? null,
      budget: input.budget ?? null,
      expiresAt,
    });
    return { ...key, key: secret, warning: 'Store this key now: it is shown only once and cannot be recovered.' };
  }

  @Get('keys')
  listKeys(@Query('tenant') tenant?: string) {
    return { object: 'list', data: this.keys.list(tenant === '' ? undefined : tenant) };
  }

  @Get('keys/:id')
  getKey(@Param('id') id: string) {
    const key = this.keys.get(id);
    if (!key) throw this.noKey(id);
    return key;
  }

  @Post('keys/:id/revoke')
  @HttpCode(200)
  revokeKey(@Param('id') id: string) {
    return this.revoke(id);
  }

  @Delete('keys/:id')
  @HttpCode(200)
  deleteKey(@Param('id') id: string) {
    return this.revoke(id);
  }

  @Put('tenants/:tenant/budget')
  async setBudget(@Param('tenant') tenant: string, @Body() body: unknown) {
    this.checkTenant(tenant);
    const setting = parseBody(tenantBudgetSchema, body);
    return budgetView(await this.budgets.setTenantBudget(tenant, setting));
  }

  /** Every tenant budget now, with its tier marks: what the console's Budgets page shows. */
  @Get('budgets')
  async listBudgets() {
    return { object: 'list', data: await this.usage.tenantBudgets() };
  }

  @Get('tenants/:tenant/budget')
  async getBudget(@Param('tenant') tenant: string) {
    this.checkTenant(tenant);
    const state = await this.budgets.state(tenant);
    if (!state) throw new NotFoundException(openAiError(`Tenant "${tenant}" has no budget.`, 'invalid_request_error', 'not_found', 'tenant'));
    return budgetView(state);
  }

  @Get('tenants/:tenant/usage')
  async tenantUsage(@Param('tenant') tenant: string, @Query() query: Record<string, unknown>) {
    this.checkTenant(tenant);
    const state = await this.budgets.state(tenant);
    return this.usage.tenantUsage(tenant, resolveRange(query, state?.period ?? 'month'));
  }

  /** The review report across tenants: fallbacks, failures, cost, latency, refusals, budgets. */
  @Get('report')
  report(@Query() query: Record<string, unknown>) {
    return this.usage.adminReport(resolveRange(query, 'month'));
  }

  /** The report over time: `?bucket=<seconds>` (60 or more) over `period` or `from`/`to`, at most MAX_SERIES_BUCKETS buckets. */
  @Get('report/series')
  reportSeries(@Query() query: Record<string, unknown>) {
    const seconds = Number(query.bucket ?? 3600);
    if (!Number.isSafeInteger(seconds) || seconds < 60) throw invalid("Invalid 'bucket': whole seconds, 60 or more.", 'bucket');
    const range = resolveRange(query, 'day');
    const to = Math.min(range.to, Date.now() + seconds * 1000);
    if ((to - range.from) / (seconds * 1000) > MAX_SERIES_BUCKETS) {
      throw invalid(`Too many buckets: at most ${MAX_SERIES_BUCKETS} per call (a shorter range or a longer bucket).`, 'bucket');
    }
    return this.usage.adminReportSeries({ ...range, to }, seconds * 1000);
  }

  private async revoke(id: string) {
    const key = await this.keys.revoke(id);
    if (!key) throw this.noKey(id);
    return key;
  }

  private noKey(id: string): NotFoundException {
    return new NotFoundException(openAiError(`No API key with id "${id}".`, 'invalid_request_error', 'not_found', 'id'));
  }

  private checkTenant(tenant: string): void {
    if (!TENANT.test(tenant)) throw invalid('Invalid tenant: letters, digits and . _ : @ / - only, at most 128 characters.', 'tenant');
  }
}
