import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { StoreModule } from '../store/store.module.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

/** Sessions over HTTP: GET /v1/sessions/:id. */
@Module({ imports: [StoreModule, PersistenceModule], controllers: [SessionsController], providers: [SessionsService] })
export class SessionsModule {}
