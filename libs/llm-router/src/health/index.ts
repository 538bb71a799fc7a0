// @llm-router/nestjs/health: the @nestjs/terminus indicator. Only this entry
// point loads @nestjs/terminus (an optional peer dependency).
export { LlmRouterHealthIndicator } from './llm-router.health.js';
export { LlmRouterHealthModule } from './llm-router-health.module.js';
