import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';

/** The media types a YAML policy may be sent as. */
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** YAML bodies arrive as text (PUT /admin/policy parses them itself, with every error at once); the same size limit as JSON. */
@Injectable()
export class YamlBodyParser implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ConfigService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const bodyLimit = this.config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).bodyLimitBytes;
    fastify.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));
  }
}
