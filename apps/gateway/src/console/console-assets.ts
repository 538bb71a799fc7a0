import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the build puts the console's browser files: its tsc output and the
 * stylesheet (scripts/build-console.mjs), inside the gateway's own dist/, so
 * `npm start` and a deployed dist/ serve them with no CDN and no source tree.
 * From dist/apps/gateway/src/console/ to dist/apps/gateway/console/.
 */
export const CONSOLE_ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/**
 * The console's browser files, read once at start-up into memory (about 60 KB):
 * only files found there are served, by exact name, so no request path ever
 * reaches the file system.
 */
@Injectable()
export class ConsoleAssets {
  private readonly logger = new Logger('Console');
  private readonly files = new Map<string, ConsoleAsset>();

  constructor() {
    if (!existsSync(CONSOLE_ASSETS_DIR)) {
      this.logger.warn(`console assets not found in ${CONSOLE_ASSETS_DIR}: run \`npm run build\`; /console will answer 404`);
      return;
    }
    for (const entry of readdirSync(CONSOLE_ASSETS_DIR, { withFileTypes: true })) {
      const type = TYPES[extname(entry.name)];
      if (!entry.isFile() || type === undefined) continue;
      const body = readFileSync(join(CONSOLE_ASSETS_DIR, entry.name));
      this.files.set(entry.name, { body, contentType: type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    }
  }

  get(name: string): ConsoleAsset | undefined {
    return this.files.get(name);
  }

  get built(): boolean {
    return this.files.has('main.js');
  }
}
