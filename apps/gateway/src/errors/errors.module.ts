import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { OpenAiExceptionFilter } from './openai-exception.filter.js';

/** Every error of a Fastify route leaves in the OpenAI shape (the fast lane writes its own, alike). */
@Module({ providers: [{ provide: APP_FILTER, useClass: OpenAiExceptionFilter }] })
export class ErrorsModule {}
