import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import type { ConfigService } from '@nestjs/config';
import { defaultGatewayConfig } from '../config/gateway.config.js';
import { GatewayRedis } from './gateway-redis.js';

/** A server that accepts connections and never answers: a Redis that hangs without closing. */
async function hungServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('LLM_REDIS_COMMAND_TIMEOUT_MS reaches the shared client: a command to a Redis that hangs fails after it', async () => {
  const hung = await hungServer();
  const config = defaultGatewayConfig({ redisUrl: hung.url, redisCommandTimeoutMs: 50 });
  const redis = await GatewayRedis.open({ getOrThrow: () => config } as unknown as ConfigService);
  try {
    assert.equal(redis.client?.options.commandTimeout, 50);
    await assert.rejects(redis.client!.ping(), /Command timed out/);
  } finally {
    await redis.onApplicationShutdown();
    await hung.close();
  }
});
