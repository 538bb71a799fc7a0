/**
 * `npm run bench -- floors`: what a proxy process on this machine costs at one
 * connection before it does any work of its own, by HTTP layer, beside the
 * llm-router gateway and Portkey in the same rounds. It answers "how low can
 * the added latency of any Node gateway go here?" for the 1-connection
 * latency target. Writes bench/results/floors.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchConfig, DIST, PORTKEY_VERSION, RESULTS_DIR, ROOT, RUN_DIR } from './config.js';
import { median, runAutocannon, type RequestSpec } from './load.js';
import { credentials, writePolicies } from './our-gateway.js';
import { startGateway, startSimulator } from './fleet.js';
import { ensurePortkey, portkeyConfig, startPortkey } from './portkey.js';
import { cpuMicros, freePort, killAllSync, startService, stopAll, type Service } from './processes.js';
import { body, SECONDARY } from './scenarios.js';

const log = (s: string) => process.stderr.write(`[floors] ${s}\n`);
process.on('exit', killAllSync);

interface Row {
  readonly label: string;
  readonly spec: RequestSpec;
  readonly pid?: number;
}

const FLOOR_PROXIES = [
  { server: 'net', client: 'net', label: 'net server + net client (no HTTP library on either side)' },
  { server: 'http', client: 'net', label: 'node:http server + net client' },
  { server: 'net', client: 'undici', label: 'net server + undici client (dispatch, callbacks)' },
  { server: 'http', client: 'undici', label: 'node:http server + undici client: the llm-router gateway\'s stack, no work of its own' },
] as const;

async function main(): Promise<void> {
  const cfg = benchConfig();
  const started = Date.now();
  const load = loadavg();
  // Logs and the policy copy go here; on a fresh clone it does not exist yet.
  mkdirSync(RUN_DIR, { recursive: true });
  const sim = await startSimulator();
  const simOpenAi = `${sim.url}/openai/v1`;
  const auth = { authorization: 'Bearer sk-bench' };
  const chat = '/v1/chat/completions';
  const rows: Row[] = [{ label: 'direct (no gateway)', spec: { url: `${simOpenAi}/chat/completions`, headers: auth, body: body(SECONDARY, false) } }];

  const proxy = async (name: string, script: string, env: Record<string, string>): Promise<Service> => {
    const port = await freePort();
    return startService({ name, port, args: [script], cwd: ROOT, env: { PORT: String(port), UPSTREAM: simOpenAi, ...env }, readyPath: '/' });
  };
  for (const f of FLOOR_PROXIES) {
    const s = await proxy(`floor-${f.server}-${f.client}`, DIST.floorProxy, { SERVER: f.server, CLIENT: f.client });
    rows.push({ label: f.label, spec: { url: s.url + chat, headers: auth, body: body(SECONDARY, false) }, pid: s.pid });
  }
  const bare = await proxy('bare', DIST.bareProxy, {});
  rows.push({ label: 'bare node:http proxy (the benchmark\'s floor: node:http both sides, streamed)', spec: { url: bare.url + chat, headers: auth, body: body(SECONDARY, false) }, pid: bare.pid });

  const { policy } = writePolicies(sim.url);
  const ours = await startGateway('ours', policy);
  const oursHeaders = { ...(await credentials(ours, log)), 'x-traffic-class': 'bench-single' };
  rows.push({ label: 'llm-router gateway (production defaults, single target)', spec: { url: ours.url + chat, headers: oursHeaders, body: body('auto', false) }, pid: ours.pid });

  const portkeyPort = await freePort();
  const portkey = await startPortkey(ensurePortkey(log), portkeyPort);
  rows.push({ label: `Portkey ${PORTKEY_VERSION}`, spec: { url: portkey.url + chat, headers: { 'x-portkey-config': portkeyConfig(simOpenAi, [{ model: SECONDARY }]) }, body: body(SECONDARY, false) }, pid: portkey.pid });

  if (cfg.warmup > 0) for (const r of rows) await runAutocannon(r.spec, 1, cfg.warmup);
  const added = rows.map(() => [] as number[]);
  const cpu = rows.map(() => [] as number[]);
  for (let round = 0; round < cfg.rounds; round++) {
    const p50 = new Array<number>(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const i = (k + round) % rows.length;
      const row = rows[i]!;
      const before = row.pid ? cpuMicros(row.pid) : 0;
      const result = await runAutocannon(row.spec, 1, cfg.duration);
      if (result.ok !== result.requests) throw new Error(`${row.label}: ${result.requests - result.ok} of ${result.requests} answers were not 2xx`);
      if (row.pid) cpu[i]!.push((cpuMicros(row.pid) - before) / result.requests);
      p50[i] = result.p50 * 1000;
    }
    for (let i = 1; i < rows.length; i++) added[i]!.push(p50[i]! - p50[0]!);
    log(`round ${round + 1}/${cfg.rounds}: ${rows.map((r, i) => `${i === 0 ? p50[0]!.toFixed(0) : `+${(p50[i]! - p50[0]!).toFixed(0)}`}`).join(' ')} µs`);
  }
  await stopAll();

  const portkeyAdded = median(added[rows.length - 1]!);
  const lines = [
    '# Floors: what a proxy process costs at one connection, by HTTP layer',
    '',
    `${new Date().toISOString().slice(0, 10)}, load average at start ${load.map((l) => l.toFixed(2)).join(' ')}. ${cfg.rounds} rounds × ${cfg.duration} s, interleaved, 1 connection; medians of the per-round figures. Run time ${Math.round((Date.now() - started) / 1000)} s. Reproduce: \`npm run bench -- floors\`.`,
    '',
    '| proxy | added p50 µs | ÷ Portkey\'s added p50 | CPU µs/req |',
    '|---|---:|---:|---:|',
    `| ${rows[0]!.label} | – (the reference) | – | – |`,
    ...rows.slice(1).map((r, j) => {
      const i = j + 1;
      const a = median(added[i]!);
      return `| ${r.label} | ${a.toFixed(0)} | ${(a / portkeyAdded).toFixed(2)} | ${median(cpu[i]!).toFixed(0)} |`;
    }),
    '',
    'Every proxy forwards the same request to the simulator and returns its answer; the `net` sides parse only Content-Length',
    'messages (bench/src/floor-proxy.ts). *added p50*: its p50 minus the direct call\'s p50 in the same round. *CPU*: utime + stime',
    'of the proxy process per request, from /proc.',
  ];
  const md = `${lines.join('\n')}\n`;
  writeFileSync(join(RESULTS_DIR, 'floors.md'), md);
  process.stdout.write(`\n${md}`);
}

main().catch(async (err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stopAll();
  process.exit(1);
});
