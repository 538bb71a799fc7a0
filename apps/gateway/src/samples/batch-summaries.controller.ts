import { BadRequestException, Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { catchError, from, map, mergeMap, of, toArray } from 'rxjs';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { LlmRouter, LlmRouterError, TrafficClass } from '@llm-router/nestjs';
import { untilClientGone } from '../chat-completions/until-client-gone.js';
import { openAiError } from '../errors/openai-error.js';
import { SampleAccessGuard } from './sample-access.guard.js';

const batchRequestSchema = z.object({
  items: z.array(z.object({ id: z.string().min(1), text: z.string().min(1).max(100_000) })).min(1).max(500),
  concurrency: z.number().int().min(1).max(16).default(4),
});

/**
 * Background summarization under the `batch-summaries` class: items are routed
 * with bounded concurrency, and each item reports its own outcome, so one
 * failed item never loses the others.
 */
@Controller('batch')
@UseGuards(SampleAccessGuard)
@TrafficClass('batch-summaries')
export class BatchSummariesController {
  constructor(private readonly router: LlmRouter) {}

  @Post('summaries')
  @HttpCode(200)
  async summarize(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const parsed = batchRequestSchema.safeParse(body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issue.path.join('.') || 'body';
      throw new BadRequestException(openAiError(`Invalid value for '${param}': ${issue.message}`, 'invalid_request_error', 'invalid_value', param));
    }
    const { items, concurrency } = parsed.data;
    // A caller that hangs up cancels the items still in flight.
    const results = await untilClientGone(
      from(items).pipe(
        mergeMap(
          (item) =>
            this.router.completion$({ messages: [{ role: 'system', content: 'Summarize the text in two sentences.' }, { role: 'user', content: item.text }] }).pipe(
              map(({ completion, outcome }) => ({
                id: item.id,
                status: 'done' as const,
                summary: completion.choices[0]?.message.content ?? '',
                model: outcome.model,
                fallback: outcome.fallback,
              })),
              catchError((err: unknown) =>
                of({
                  id: item.id,
                  status: 'failed' as const,
                  error: err instanceof LlmRouterError ? err.toOpenAiError().error : { message: String(err), type: 'server_error', code: 'internal_error', param: null },
                }),
              ),
            ),
          concurrency,
        ),
        toArray(),
      ),
      reply.raw,
    );
    const order = new Map(items.map((item, i) => [item.id, i]));
    results.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return { object: 'batch.result', completed: results.filter((r) => r.status === 'done').length, failed: results.filter((r) => r.status === 'failed').length, results };
  }
}
