import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Global, Injectable, Module, Post, type INestApplication, type Provider } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  InjectBudgetLedgerStore,
  InjectCircuitStateStore,
  InjectLlmTransport,
  InMemoryBudgetLedgerStore,
  InMemoryCircuitStateStore,
  UndiciTransport,
  type BudgetLedgerStore,
  type CircuitStateStore,
  type Transport,
  InMemorySessionStore, LlmRouter, LlmRouterModule, PolicyValidationError, SESSION_STORE, type SessionStore, RoutingContextInterceptor, QualityFloor, TrafficClass, type LlmRouterModuleOptions, type LlmRouterOptionsFactory, type PolicyDocument, type RoutingRecord } from '@llm-router/nestjs';
import { LlmRouterHealthIndicator, LlmRouterHealthModule } from '@llm-router/nestjs/health';
import { RedisBudgetLedgerStore } from '@llm-router/nestjs/redis';
import { ScriptedTransport } from '@llm-router/nestjs/testing';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { REDIS_URL, redisAvailable } from './support/services.js';
import { startSimulator, type SimulatorHandle } from '../apps/simulator/src/index.js';

function policyFor(simUrl: string): PolicyDocument {
  return {
    defaultClass: 'general',
    providers: {
      oa: { kind: 'openai', baseUrl: `${simUrl}/openai/v1` },
      an: { kind: 'anthropic', baseUrl: `${simUrl}/anthropic/v1` },
    },
    models: {
      'premium-a': { provider: 'oa', upstreamModel: 'sim-premium-a', tier: 'premium', capabilities: ['tools', 'streaming'], contextWindow: 100_000, price: { inputPerMTok: 3, outputPerMTok: 15 } },
      'premium-b': { provider: 'an', upstreamModel: 'sim-premium-b', tier: 'premium', capabilities: ['tools', 'streaming'], contextWindow: 100_000, price: { inputPerMTok: 3, outputPerMTok: 15 } },
      'standard-1': { provider: 'oa', upstreamModel: 'sim-standard-1', tier: 'standard', capabilities: ['streaming'], contextWindow: 30_000, price: { inputPerMTok: 0.5, outputPerMTok: 1.5 } },
    },
    classes: {
      general: { criticality: 'standard', route: ['standard-1', 'premium-a'] },
      'support-chat': { criticality: 'critical', route: ['premium-a', 'premium-b'] },
    },
    circuit: { failureThreshold: 1, cooldownMs: 60_000 },
  };
}

/** A service far below the handler: it passes no class, tenant or floor. */
@Injectable()
class AnswerService {
  constructor(private readonly router: LlmRouter) {}
  async answer(options?: { trafficClass?: string }) {
    await new Promise((r) => setTimeout(r, 1)); // context must survive async hops
    const { outcome } = await this.router.complete({ messages: [{ role: 'user', content: 'hello' }] }, options);
    return outcome;
  }
}

@Controller('chat')
@TrafficClass('general')
class ChatController {
  constructor(private readonly answers: AnswerService) {}

  @Post('default')
  byClass() {
    return this.answers.answer();
  }

  @Post('support')
  @TrafficClass('support-chat')
  byMethod() {
    return this.answers.answer();
  }

  @Post('explicit')
  @TrafficClass('support-chat')
  explicit() {
    return this.answers.answer({ trafficClass: 'general' });
  }

  @Post('floor')
  @QualityFloor({ tier: 'premium', capabilities: ['tools'] })
  floor() {
    return this.answers.answer();
  }
}

/** No decorator: a request context only with `requestContext: 'every-route'` (the default). */
@Controller('plain')
class PlainController {
  constructor(private readonly answers: AnswerService) {}
  @Post()
  plain() {
    return this.answers.answer();
  }
}

@Controller('health')
class HealthController {
  constructor(private readonly health: LlmRouterHealthIndicator) {}
  @Get()
  check() {
    return this.health.isHealthy('llm');
  }
}

async function boot(routerModule: ReturnType<typeof LlmRouterModule.forRoot>, controllers: Function[] = [ChatController, HealthController]) {
  // The app opts in to the request context and the terminus indicator; the module imposes neither.
  @Module({
    imports: [routerModule, LlmRouterHealthModule],
    controllers: controllers as never[],
    providers: [AnswerService, { provide: APP_INTERCEPTOR, useClass: RoutingContextInterceptor }],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('LlmRouterModule wiring', () => {
  let sim: SimulatorHandle;
  let app: INestApplication;
  let base: string;
  const records: RoutingRecord[] = [];

  before(async () => {
    sim = await startSimulator({ port: 0 });
    app = await boot(LlmRouterModule.forRoot({ policy: policyFor(sim.url) }), [ChatController, HealthController, PlainController]);
    base = await app.getUrl();
    app.get(LlmRouter).records$.subscribe((r) => records.push(r));
  });
  after(async () => {
    await app?.close();
    await sim?.close();
  });

  const post = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('the class decorator sets the traffic class for calls made deep below the handler', async () => {
    const res = await post('/chat/default');
    assert.equal(res.status, 201);
    assert.equal(res.body['trafficClass'], 'general');
    assert.equal(res.body['model'], 'standard-1');
  });

  it('the method decorator wins over the controller decorator', async () => {
    const res = await post('/chat/support');
    assert.equal(res.body['trafficClass'], 'support-chat');
    assert.equal(res.body['model'], 'premium-a');
  });

  it('explicit call options override the context', async () => {
    const res = await post('/chat/explicit');
    assert.equal(res.body['trafficClass'], 'general');
  });

  it('@QualityFloor raises the floor: the standard model is excluded', async () => {
    const res = await post('/chat/floor');
    assert.equal(res.body['model'], 'premium-a');
    const record = records.at(-1)!;
    assert.deepEqual(record.qualityFloor, { tier: 'premium', capabilities: ['tools'] });
    assert.equal(record.excluded[0]!.model, 'standard-1');
  });

  it('tenant, feature, session and request id come from the request into the record', async () => {
    await post('/chat/default', { 'x-tenant-id': 'acme', 'x-feature': 'faq', 'x-session-id': 'sess-9', 'x-request-id': 'req-42' });
    const record = records.find((r) => r.requestId === 'req-42');
    assert.ok(record, 'record with the caller request id');
    assert.deepEqual([record.tenant, record.feature, record.session], ['acme', 'faq', 'sess-9']);
  });

  it('an undecorated route still gets the caller\'s headers by default (requestContext: every-route)', async () => {
    const before = records.length;
    const res = await post('/plain', { 'x-tenant-id': 'acme-plain' });
    assert.equal(res.status, 201);
    assert.equal(records.at(-1)?.tenant, 'acme-plain');
    assert.equal(records.length, before + 1);
  });

  it("requestContext: 'decorated-routes': decorated routes keep their context, undecorated ones run without one", async () => {
    const other = await boot(LlmRouterModule.forRoot({ policy: policyFor(sim.url), requestContext: 'decorated-routes' }), [ChatController, PlainController]);
    try {
      const seen: RoutingRecord[] = [];
      other.get(LlmRouter).records$.subscribe((r) => seen.push(r));
      const url = await other.getUrl();
      const call = (path: string) => fetch(`${url}${path}`, { method: 'POST', headers: { 'x-tenant-id': 'acme-decorated' } });
      assert.equal((await call('/chat/support')).status, 201);
      assert.deepEqual([seen.at(-1)?.trafficClass, seen.at(-1)?.tenant], ['support-chat', 'acme-decorated']);
      assert.equal((await call('/plain')).status, 201);
      assert.deepEqual([seen.at(-1)?.trafficClass, seen.at(-1)?.tenant], ['general', undefined]);
    } finally {
      await other.close();
    }
  });

  it('concurrent requests keep their own contexts', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? '/chat/support' : '/chat/default', { 'x-tenant-id': `t${i}`, 'x-request-id': `conc-${i}` })));
    for (let i = 0; i < 20; i++) {
      const r = records.find((x) => x.requestId === `conc-${i}`)!;
      assert.equal(r.tenant, `t${i}`);
      assert.equal(r.trafficClass, i % 2 ? 'support-chat' : 'general');
    }
  });

  it('the health indicator turns degraded when a circuit opens, down when a class has no route', async () => {
    const health = async () => (await (await fetch(`${base}/health`)).json()) as { llm: { status: string; openCircuits?: string[]; unroutableClasses?: string[] } };
    const up = await health();
    assert.equal(up.llm.status, 'up');
    sim.addFaults({ match: { model: 'sim-premium-a' }, fault: { error: 'auth' } });
    await post('/chat/support'); // 401 opens premium-a at once, premium-b serves
    const degraded = await health();
    assert.equal(degraded.llm.status, 'degraded');
    assert.deepEqual(degraded.llm.openCircuits, ['premium-a']);
    sim.addFaults({ match: { model: 'sim-premium-b' }, fault: { error: 'auth' } });
    await post('/chat/support');
    const down = await health();
    assert.equal(down.llm.status, 'down');
    assert.deepEqual(down.llm.unroutableClasses, ['support-chat']);
    sim.clearFaults();
  });
});

describe('LlmRouterModule start-up checks', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ port: 0 });
  });
  after(async () => {
    await sim?.close();
  });

  it('a decorator naming an undefined class fails start-up, not the first request', async () => {
    @Controller('bad')
    class BadController {
      @Post()
      @TrafficClass('no-such-class')
      go() {
        return 'never';
      }
    }
    await assert.rejects(boot(LlmRouterModule.forRoot({ policy: policyFor(sim.url) }), [BadController]), (err: unknown) => {
      assert.ok(err instanceof PolicyValidationError);
      assert.match(err.message, /@TrafficClass on BadController\.go: unknown traffic class "no-such-class"/);
      return true;
    });
  });

  it('an invalid policy stops start-up with the offending path', async () => {
    const policy = policyFor(sim.url);
    policy.classes['general']!.route = ['ghost'];
    await assert.rejects(boot(LlmRouterModule.forRoot({ policy })), /classes\.general\.route\[0\]: unknown model "ghost"/);
  });

  it('forRootAsync with @nestjs/config and useFactory', async () => {
    const app = await boot(
      LlmRouterModule.forRootAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ simUrl: sim.url })] })],
        inject: [ConfigService],
        useFactory: (config: ConfigService): LlmRouterModuleOptions => ({ policy: policyFor(config.getOrThrow<string>('simUrl')) }),
      }),
    );
    try {
      const res = await fetch(`${await app.getUrl()}/chat/support`, { method: 'POST' });
      assert.equal(((await res.json()) as { model: string }).model, 'premium-a');
    } finally {
      await app.close();
    }
  });

  it('forRootAsync with useClass', async () => {
    @Injectable()
    class RouterConfig implements LlmRouterOptionsFactory {
      createLlmRouterOptions(): LlmRouterModuleOptions {
        return { policy: policyFor(sim.url) };
      }
    }
    const app = await boot(LlmRouterModule.forRootAsync({ useClass: RouterConfig }));
    try {
      assert.equal(app.get(LlmRouter).policy.defaultClass, 'general');
    } finally {
      await app.close();
    }
  });

  it('a decorated controller in an app without RoutingContextInterceptor is named in a start-up warning', async () => {
    const warnings: string[] = [];
    const logger = { log() {}, error() {}, debug() {}, verbose() {}, warn: (message: unknown) => void warnings.push(String(message)) };
    const create = async (providers: Provider[]) => {
      @Module({ imports: [LlmRouterModule.forRoot({ policy: policyFor(sim.url) })], controllers: [ChatController], providers: [AnswerService, ...providers] })
      class CheckedAppModule {}
      const app = await NestFactory.create(CheckedAppModule, new FastifyAdapter(), { logger, abortOnError: false });
      await app.init();
      await app.close();
    };
    await create([]);
    const warning = warnings.find((w) => w.includes('RoutingContextInterceptor'));
    assert.ok(warning, `warned: ${JSON.stringify(warnings)}`);
    assert.match(warning, /ChatController/);
    warnings.length = 0;
    await create([{ provide: APP_INTERCEPTOR, useClass: RoutingContextInterceptor }]);
    assert.deepEqual(warnings.filter((w) => w.includes('RoutingContextInterceptor')), []);
  });

  describe('ports in the container', () => {
    const REDIS = Symbol('REDIS');

    @Injectable()
    class PortReader {
      constructor(
        @InjectLlmTransport() readonly transport: Transport,
        @InjectBudgetLedgerStore() readonly ledger: BudgetLedgerStore,
        @InjectCircuitStateStore() readonly circuits: CircuitStateStore,
      ) {}
    }

    async function bootWith(routerModule: ReturnType<typeof LlmRouterModule.forRoot>) {
      @Module({ imports: [routerModule], controllers: [ChatController], providers: [AnswerService, PortReader, { provide: APP_INTERCEPTOR, useClass: RoutingContextInterceptor }] })
      class PortsAppModule {}
      const app = await NestFactory.create(PortsAppModule, new FastifyAdapter(), { logger: false, abortOnError: false });
      await app.listen(0, '127.0.0.1');
      return app;
    }

    it('defaults: in-process stores and the undici transport, which the module closes at shutdown', async () => {
      const app = await bootWith(LlmRouterModule.forRoot({ policy: policyFor(sim.url) }));
      const ports = app.get(PortReader);
      assert.ok(ports.transport instanceof UndiciTransport);
      assert.ok(ports.ledger instanceof InMemoryBudgetLedgerStore);
      assert.ok(ports.circuits instanceof InMemoryCircuitStateStore);
      let closed = 0;
      const close = ports.transport.close.bind(ports.transport);
      ports.transport.close = () => {
        closed++;
        close();
      };
      await app.close();
      assert.equal(closed, 1);
    });

    it('a transport given with useFactory serves the calls and is not closed by the module', async () => {
      const scripted = new ScriptedTransport().script('sim-standard-1', {
        status: 200,
        body: JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'sim-standard-1', choices: [{ index: 0, message: { role: 'assistant', content: 'scripted' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
      });
      let closed = 0;
      scripted.close = () => void closed++;
      const app = await bootWith(LlmRouterModule.forRoot({ policy: policyFor(sim.url), ports: { transport: { useFactory: () => scripted } } }));
      try {
        assert.equal(app.get(PortReader).transport, scripted);
        const res = await fetch(`${await app.getUrl()}/chat/default`, { method: 'POST' });
        assert.equal(((await res.json()) as { model: string }).model, 'standard-1');
        assert.deepEqual(scripted.calls, ['sim-standard-1']);
      } finally {
        await app.close();
      }
      assert.equal(closed, 0);
    });

    it('the session store: in-process by default; one given with useValue holds the pins the router writes', async () => {
      const defaults = await bootWith(LlmRouterModule.forRoot({ policy: policyFor(sim.url) }));
      try {
        assert.ok(defaults.get<SessionStore>(SESSION_STORE) instanceof InMemorySessionStore);
      } finally {
        await defaults.close();
      }
      const given = new InMemorySessionStore();
      const app = await bootWith(LlmRouterModule.forRoot({ policy: policyFor(sim.url), ports: { sessionStore: { useValue: given } } }));
      try {
        await app.get(LlmRouter).complete({ messages: [{ role: 'user', content: 'hi' }] }, { trafficClass: 'general', tenant: 'acme', caller: 'k', session: 'conv' });
        assert.equal(given.get({ tenant: 'acme', caller: 'k', id: 'conv' })?.target, 'standard-1');
      } finally {
        await app.close();
      }
    });

    it('a factory returning undefined keeps the default', async () => {
      const app = await bootWith(LlmRouterModule.forRoot({ policy: policyFor(sim.url), ports: { circuitStore: { useFactory: () => undefined } } }));
      try {
        assert.ok(app.get(PortReader).circuits instanceof InMemoryCircuitStateStore);
      } finally {
        await app.close();
      }
    });

    it('forRootAsync: a Redis ledger built from the app\'s client (useFactory + inject) books the budget there, and the client stays the app\'s', async (t) => {
      const available = await redisAvailable();
      if (available !== true) return t.skip(available);
      const client = new Redis(REDIS_URL);
      const keyPrefix = `llmr-test:${randomUUID()}:`;
      @Global()
      @Module({ providers: [{ provide: REDIS, useValue: client }], exports: [REDIS] })
      class RedisClientModule {}
      const app = await bootWith(
        LlmRouterModule.forRootAsync({
          imports: [RedisClientModule],
          useFactory: (): LlmRouterModuleOptions => ({ policy: policyFor(sim.url) }),
          ports: { budgetLedger: { useFactory: (redis: Redis) => new RedisBudgetLedgerStore({ client: redis, keyPrefix }), inject: [REDIS] } },
        }),
      );
      try {
        assert.ok(app.get(PortReader).ledger instanceof RedisBudgetLedgerStore);
        const router = app.get(LlmRouter);
        await router.budgets.setTenantBudget('acme', { budgetUsd: 10 });
        const res = await fetch(`${await app.getUrl()}/chat/default`, { method: 'POST', headers: { 'x-tenant-id': 'acme' } });
        assert.equal(res.status, 201);
        const state = await router.budgets.state('acme');
        assert.ok(state !== undefined && state.spentUsd > 0, `spend booked: ${JSON.stringify(state)}`);
        assert.ok((await client.keys(`${keyPrefix}*`)).length > 0, 'the ledger keys are in Redis');
      } finally {
        await app.close();
      }
      try {
        assert.equal(await client.ping(), 'PONG', 'the app\'s client is still open after shutdown');
      } finally {
        const keys = await client.keys(`${keyPrefix}*`);
        if (keys.length > 0) await client.del(...keys);
        client.disconnect();
      }
    });
  });
});
