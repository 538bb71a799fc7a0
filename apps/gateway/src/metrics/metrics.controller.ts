import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RecordsService } from '../persistence/records.service.js';

/** Prometheus text exposition. Open unless LLM_METRICS_TOKEN is set (the auth hook checks it), like /health otherwise. */
@Controller()
export class MetricsController {
  constructor(private readonly records: RecordsService) {}

  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.records.metrics.metrics();
    void reply.header('content-type', this.records.metrics.contentType).header('cache-control', 'no-store').send(text);
  }
}
