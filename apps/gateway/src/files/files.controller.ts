import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { requiredTenant } from '../auth/required-tenant.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { listEnvelope } from '../http/cursor-page.js';
import { fileView } from './file.view.js';
import { FilesService } from './files.service.js';
import { readUpload } from './read-upload.js';

/** OpenAI's Files API for batch inputs and outputs: `POST /v1/files`, `GET /v1/files` (`after`/`limit`/`purpose`), `GET /v1/files/:id`, `GET /v1/files/:id/content`, `DELETE /v1/files/:id`. */
@Controller('v1/files')
export class FilesController {
  private readonly limitBytes: number;

  constructor(
    private readonly files: FilesService,
    config: ConfigService,
  ) {
    this.limitBytes = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).fileLimitBytes;
  }

  @Post()
  @HttpCode(200)
  async upload(@Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal | null) {
    const upload = await readUpload(request, this.limitBytes);
    return fileView(await this.files.upload(requiredTenant(principal), upload));
  }

  @Get()
  async list(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal | null) {
    const page = await this.files.list(requiredTenant(principal), query);
    return listEnvelope(page.rows.map(fileView), page.hasMore);
  }

  @Get(':id')
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null) {
    return fileView(await this.files.get(requiredTenant(principal), id));
  }

  @Get(':id/content')
  async content(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null, @Res({ passthrough: true }) reply: FastifyReply) {
    const content = await this.files.content(requiredTenant(principal), id);
    // Set once found: a 404 keeps the JSON error's own content type.
    reply.header('content-type', 'application/octet-stream');
    return content;
  }

  @Delete(':id')
  async delete(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null) {
    await this.files.delete(requiredTenant(principal), id);
    return { id, object: 'file', deleted: true };
  }
}
