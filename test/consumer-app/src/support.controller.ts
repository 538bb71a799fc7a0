import { Body, Controller, Get, Post } from '@nestjs/common';
import { LlmRouter, QualityFloor, TrafficClass, type RouteOutcome, type RoutingRecord } from '@llm-router/nestjs';
import { RecordsService } from './records.service.js';

export interface SupportReply {
  reply: string | null;
  outcome: RouteOutcome;
}

@Controller('support')
@TrafficClass('support-chat')
@QualityFloor({ tier: 'premium', capabilities: ['tools'] })
export class SupportController {
  constructor(
    private readonly router: LlmRouter,
    private readonly records: RecordsService,
  ) {}

  @Post('chat')
  async chat(@Body() body: { message: string }): Promise<SupportReply> {
    // No class, floor or tenant passed: they come from the decorators and the request's headers.
    const { completion, outcome } = await this.router.complete({ messages: [{ role: 'user', content: body.message }] });
    return { reply: completion.choices[0]?.message.content ?? null, outcome };
  }

  @Get('records')
  routingRecords(): readonly RoutingRecord[] {
    return this.records.all();
  }
}
