import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ConsoleAssets } from './console-assets.js';
import { ConsoleController } from './console.controller.js';

/** The web console (/console): login, the page shell and its browser files; its data comes from the admin API. */
@Module({ imports: [AuthModule, MetricsModule], controllers: [ConsoleController], providers: [ConsoleAssets] })
export class ConsoleModule {}
