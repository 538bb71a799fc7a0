import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { GatewayMetrics } from './gateway-metrics.js';

/** Prometheus text exposition. Open unless LLM_METRICS_TOKEN is set (the auth hook checks it), like /health otherwise. */
@Controller()
export class MetricsController {
  constructor(private readonly gatewayMetrics: GatewayMetrics) {}

  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.gatewayMetrics.metrics();
    void reply.header('content-type', this.gatewayMetrics.contentType).header('cache-control', 'no-store').send(text);
  }
}
