import type { RequestSpec } from './load.js';
import { portkeyConfig } from './portkey.js';

export type TargetId = 'direct' | 'ours' | 'prod' | 'portkey' | 'nest' | 'bare';
export type ScenarioId = 'single' | 'fallback' | 'circuit' | 'stream';

export const TARGET_LABELS: Record<TargetId, string> = {
  direct: 'direct (no gateway)',
  ours: 'llm-router gateway',
  prod: 'llm-router, production config',
  portkey: 'Portkey 1.15.2',
  nest: 'Nest + fastify app, no work',
  bare: 'bare node:http proxy',
};

export interface Target {
  readonly id: TargetId;
  /** The gateway process measured (/proc), none for direct. */
  readonly service?: string;
  readonly spec: RequestSpec;
}

export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  readonly stream: boolean;
  readonly targets: readonly Target[];
  /** Scenario whose direct measurement is the baseline (the same upstream call). */
  readonly directFrom: ScenarioId;
  /** Scenario whose Portkey measurement is compared against. */
  readonly portkeyFrom: ScenarioId;
}

export interface Endpoints {
  sim: string;
  ours: string;
  oursFallback: string;
  portkey: string;
  /** The framework's floor (nest-floor.ts): the gateway's stack forwarding with no work of its own. */
  nest: string;
  bare: string;
  /** Credentials for each llm-router gateway process: its API key, or the tenant header where it has no keys. */
  oursHeaders: Record<string, string>;
  oursFallbackHeaders: Record<string, string>;
  /** The gateway in the production configuration (Redis, PostgreSQL, keys, a tenant budget), when it runs. */
  prod?: { url: string; headers: Record<string, string> };
}

const MESSAGES = [
  { role: 'system', content: 'You are a concise assistant for an online shop.' },
  { role: 'user', content: 'Where is my order #12345? It was due yesterday and the tracking page shows nothing.' },
];

export const body = (model: string, stream: boolean) => JSON.stringify({ model, messages: MESSAGES, max_tokens: 64, ...(stream ? { stream: true } : {}) });

export const PRIMARY = 'sim-bench-a';
export const SECONDARY = 'sim-bench-b';

export function scenarios(e: Endpoints): Scenario[] {
  const simOpenAi = `${e.sim}/openai/v1`;
  const auth = { authorization: 'Bearer sk-bench' };
  const chat = '/v1/chat/completions';
  // Every request to the llm-router gateway is for tenant "bench", whose budget the policy sets: the budget guard is on.
  const ourHeaders = (trafficClass: string, credentials = e.oursHeaders) => ({ ...credentials, 'x-traffic-class': trafficClass });
  const single = (stream: boolean): Target[] => [
    { id: 'direct', spec: { url: `${simOpenAi}/chat/completions`, headers: auth, body: body(SECONDARY, stream) } },
    { id: 'ours', service: 'ours', spec: { url: e.ours + chat, headers: ourHeaders('bench-single'), body: body('auto', stream) } },
    ...(e.prod ? [{ id: 'prod' as const, service: 'prod', spec: { url: e.prod.url + chat, headers: ourHeaders('bench-single', e.prod.headers), body: body('auto', stream) } }] : []),
    { id: 'portkey', service: 'portkey', spec: { url: e.portkey + chat, headers: { 'x-portkey-config': portkeyConfig(simOpenAi, [{ model: SECONDARY }]) }, body: body(SECONDARY, stream) } },
    { id: 'nest', service: 'nest', spec: { url: e.nest + chat, headers: auth, body: body(SECONDARY, stream) } },
    { id: 'bare', service: 'bare', spec: { url: e.bare + chat, headers: auth, body: body(SECONDARY, stream) } },
  ];
  return [
    { id: 'single', title: 'single healthy target (JSON)', stream: false, targets: single(false), directFrom: 'single', portkeyFrom: 'single' },
    {
      id: 'fallback',
      title: 'fallback: primary answers 503, secondary serves (JSON)',
      stream: false,
      directFrom: 'single',
      portkeyFrom: 'fallback',
      targets: [
        { id: 'ours', service: 'oursFallback', spec: { url: e.oursFallback + chat, headers: ourHeaders('bench-fallback', e.oursFallbackHeaders), body: body('auto', false) } },
        {
          id: 'portkey',
          service: 'portkey',
          spec: { url: e.portkey + chat, headers: { 'x-portkey-config': portkeyConfig(simOpenAi, [{ model: PRIMARY }, { model: SECONDARY }]) }, body: body(PRIMARY, false) },
        },
        { id: 'bare', service: 'bare', spec: { url: e.bare + chat, headers: { ...auth, 'x-bench-fallback-model': SECONDARY }, body: body(PRIMARY, false) } },
      ],
    },
    {
      id: 'circuit',
      title: "fallback after the primary's circuit opened (JSON)",
      stream: false,
      directFrom: 'single',
      portkeyFrom: 'fallback',
      targets: [{ id: 'ours', service: 'ours', spec: { url: e.ours + chat, headers: ourHeaders('bench-fallback'), body: body('auto', false) } }],
    },
    { id: 'stream', title: 'streaming, single healthy target (SSE)', stream: true, targets: single(true), directFrom: 'stream', portkeyFrom: 'stream' },
  ];
}

/** The traffic class of the open-stream run (bench/policy.yaml): its route is the slow model alone. */
export const SLOW_CLASS = 'bench-slow-stream';

/** The open-stream run's request through each proxy: a stream of the slow model. */
export function slowStreamSpecs(e: Pick<Endpoints, 'sim' | 'ours' | 'oursHeaders' | 'portkey' | 'bare' | 'prod'>, slowModel: string): { id: TargetId; service: string; spec: RequestSpec }[] {
  const simOpenAi = `${e.sim}/openai/v1`;
  const chat = '/v1/chat/completions';
  return [
    { id: 'ours', service: 'ours', spec: { url: e.ours + chat, headers: { ...e.oursHeaders, 'x-traffic-class': SLOW_CLASS }, body: body('auto', true) } },
    ...(e.prod ? [{ id: 'prod' as const, service: 'prod', spec: { url: e.prod.url + chat, headers: { ...e.prod.headers, 'x-traffic-class': SLOW_CLASS }, body: body('auto', true) } }] : []),
    { id: 'bare', service: 'bare', spec: { url: e.bare + chat, headers: { authorization: 'Bearer sk-bench' }, body: body(slowModel, true) } },
    { id: 'portkey', service: 'portkey', spec: { url: e.portkey + chat, headers: { 'x-portkey-config': portkeyConfig(simOpenAi, [{ model: slowModel }]) }, body: body(slowModel, true) } },
  ];
}
