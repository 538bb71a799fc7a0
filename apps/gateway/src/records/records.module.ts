import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { StoreModule } from '../store/store.module.js';
import { RecordsController } from './records.controller.js';

/** Routing records over HTTP: search and one request's story. */
@Module({ imports: [StoreModule, PersistenceModule], controllers: [RecordsController] })
export class RecordsModule {}
