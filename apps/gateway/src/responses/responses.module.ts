import { Module } from '@nestjs/common';
import { ChatCompletionsModule } from '../chat-completions/chat-completions.module.js';
import { StoreModule } from '../store/store.module.js';
import { ResponsesController } from './responses.controller.js';
import { StoredResponsesService } from './stored-responses.service.js';

/** OpenAI's Responses API, routed like chat completions, its responses stored on the gateway's SQL store. */
@Module({ imports: [ChatCompletionsModule, StoreModule], controllers: [ResponsesController], providers: [StoredResponsesService] })
export class ResponsesModule {}
