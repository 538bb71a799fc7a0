import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module.js';
import { FilesController } from './files.controller.js';
import { FilesService } from './files.service.js';

/** OpenAI's Files API (batch inputs and outputs) on the gateway's store. */
@Module({ imports: [StoreModule], controllers: [FilesController], providers: [FilesService], exports: [FilesService] })
export class FilesModule {}
