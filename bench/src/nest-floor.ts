/**
 * The framework's floor: an empty NestJS application on the fastify adapter
 * (the gateway's stack) with one route that forwards the request to the
 * upstream with undici (the gateway's client) and returns the answer. No
 * policy, no validation, no records: what Nest + fastify + undici cost on
 * their own, in CPU and in memory, so that the gateway's figures can be split
 * into the framework's share and its own. For the benchmark only.
 *
 * Env: PORT (required), UPSTREAM (e.g. http://127.0.0.1:4010/openai/v1), HOST (127.0.0.1).
 */
import 'reflect-metadata';
import { Body, Controller, Headers, HttpCode, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { Pool } from 'undici';

const port = Number(process.env.PORT);
const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:4010/openai/v1');
const host = process.env.HOST ?? '127.0.0.1';
const basePath = upstream.pathname.replace(/\/$/, '');
// As many upstream sockets as the gateway's policy allows (bench/policy.yaml maxSockets).
const pool = new Pool(upstream.origin, { connections: 8192, pipelining: 1 });

@Controller('v1')
class ForwardController {
  @Post('chat/completions')
  @HttpCode(200)
  async forward(@Body() body: unknown, @Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const up = await pool.request({
      method: 'POST',
      path: `${basePath}/chat/completions`,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });
    reply.status(up.statusCode).header('content-type', up.headers['content-type'] ?? 'application/json');
    // Streamed through as it comes, as the gateway does for SSE.
    await reply.send(up.body);
  }
}

@Module({ controllers: [ForwardController] })
class NestFloorModule {}

const app = await NestFactory.create<NestFastifyApplication>(NestFloorModule, new FastifyAdapter({ bodyLimit: 10 * 2 ** 20 }), { logger: ['error'] });
await app.listen(port, host);
