import { Module } from '@nestjs/common';
import { ModelsController } from './models.controller.js';

/** GET /v1/models: what the caller's key may use. */
@Module({ controllers: [ModelsController] })
export class ModelsModule {}
