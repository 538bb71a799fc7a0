import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { TrafficClass } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { requiredTenant } from '../auth/required-tenant.js';
import { BATCH_ENDPOINT } from '../batches/batch-input.js';
import { CLASS_METADATA_KEY } from '../batches/batch-class.js';
import { BatchesService } from '../batches/batches.service.js';
import { parseOr400 } from '../errors/parse-or-400.js';
import { FilesService } from '../files/files.service.js';
import { SampleAccessGuard } from './sample-access.guard.js';

const CLASS = 'batch-summaries';
const SYSTEM = 'Summarize the text in two sentences.';
/** Marks the batches this workflow made (their metadata's `source`). */
const SOURCE = 'batch-summaries';

const batchRequestSchema = z.object({
  items: z
    .array(z.object({ id: z.string().min(1).max(512), text: z.string().min(1).max(100_000) }))
    .min(1)
    .max(500)
    .refine((items) => new Set(items.map((i) => i.id)).size === items.length, 'item ids must be unique'),
});

/**
 * Background summarization as a real batch under the `batch-summaries`
 * class: `POST /batch/summaries` takes the documents, makes them a batch of
 * the caller's key (the Batch API's file and batch) and answers 202 with its
 * id; `GET /batch/summaries/:id` shows its progress, its pause and resume
 * (the budget), and once done each document's summary or error.
 */
@Controller('batch')
@UseGuards(SampleAccessGuard)
@TrafficClass(CLASS)
export class BatchSummariesController {
  constructor(
    private readonly batches: BatchesService,
    private readonly files: FilesService,
  ) {}

  @Post('summaries')
  @HttpCode(202)
  async summarize(@Body() body: unknown, @CurrentPrincipal() principal: Principal | null, @Res({ passthrough: true }) reply: FastifyReply) {
    const { items } = parseOr400(batchRequestSchema, body);
    const tenant = requiredTenant(principal);
    const lines = items.map((item) =>
      JSON.stringify({ custom_id: item.id, method: 'POST', url: BATCH_ENDPOINT, body: { messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: item.text }] } }),
    );
    const file = await this.files.createBatchInput(tenant, 'batch-summaries.jsonl', `${lines.join('\n')}\n`);
    const batch = await this.batches.create(principal, {
      input_file_id: file.id,
      endpoint: BATCH_ENDPOINT,
      completion_window: '24h',
      metadata: { [CLASS_METADATA_KEY]: CLASS, source: SOURCE },
    });
    reply.header('location', `/batch/summaries/${batch.id}`);
    return batch;
  }

  @Get('summaries/:id')
  async progress(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null) {
    const batch = await this.batches.get(principal, id);
    const tenant = requiredTenant(principal);
    const results = [];
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (!fileId) continue;
      for (const text of (await this.files.content(tenant, fileId)).split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as { custom_id: string; response: { status_code: number; body: any } | null; error: unknown };
        results.push(
          line.response?.status_code === 200
            ? { id: line.custom_id, status: 'done' as const, summary: line.response.body.choices?.[0]?.message?.content ?? '' }
            : { id: line.custom_id, status: 'failed' as const, error: line.response?.body?.error ?? line.error },
        );
      }
    }
    return { ...batch, results };
  }
}
