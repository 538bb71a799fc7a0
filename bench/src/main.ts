/**
 * `npm run bench`: the gateway's cost against a direct call, the Portkey
 * gateway and a bare node:http proxy, on 127.0.0.1, interleaved, in rounds,
 * medians reported. See bench/README.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeProfile, layersMarkdown, profileMarkdown, readProfile, windowsMarkdown, type ProfileSummary, type Window } from './analyze-profile.js';
import { benchConfig, DIST, RESULTS_DIR, ROOT, type BenchConfig } from './config.js';
import { runBenchEntry, type BenchEntry } from './entry.js';
import { credentials, gatewayEnv, replacePolicy } from './our-gateway.js';
import { startFleet } from './fleet.js';
import { machineLine, type Machine } from './results.js';
import { FIXED_RATE_SCENARIOS, fixedRateNote, fixedRateSettings, fixedRateTable, runFixedRate, type FixedRateResult } from './fixed-rate.js';
import { featureCostsNote, featureCostsRun, featureCostsSettings, featureCostsTable, runFeatureCosts, type FeatureCost } from './feature-costs.js';
import { checkFileLimit, runOpenStreams, streamsFailures, streamsNote, streamsChecks, streamsTable, streamTargets, type OpenStreamsResult } from './open-streams.js';
import { runSoak, soakChecks, soakMarkdown, type SoakResult } from './soak.js';
import { rotate, runAutocannon, runStreamClient, type LoadResult, type RequestSpec } from './load.js';
import type { MicroResult } from './micro-result.js';
import { cpuMicros, httpJson, peakRss, resetPeakRss, sampleRss, settledRss, sleep, startOnFreePort, stopService, type Service } from './processes.js';
import { aggregate, checkTargets, mainTable, memoryTable, microTable, productionTable, targetsTable, ttfcTable, type Kind, type Measurement, type TargetCheck } from './report.js';
import { body, PRIMARY, scenarios as defineScenarios, SECONDARY, TARGET_LABELS, type Scenario, type ScenarioId, type Target, type TargetId } from './scenarios.js';

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

function runMicro(cfg: BenchConfig): Promise<MicroResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIST.micro], {
      cwd: ROOT,
      env: { ...process.env, BENCH_MICRO_CALLS: String(cfg.microCalls) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`micro-benchmark exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as MicroResult);
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Processes of the micro-benchmark: V8 settles a process's optimizations once, sometimes badly; the median process counts. */
const MICRO_PROCESSES = 3;

async function runMicroProcesses(cfg: BenchConfig): Promise<MicroResult & { processes: number }> {
  const runs: MicroResult[] = [];
  for (let i = 0; i < MICRO_PROCESSES; i++) runs.push(await runMicro(cfg));
  // The process with the median overhead, whole: its figures stay consistent with each other.
  const middle = [...runs].sort((a, b) => a.overheadUs - b.overheadUs)[runs.length >> 1]!;
  return { ...middle, processes: runs.length };
}

async function simStats(sim: Service): Promise<Record<string, number>> {
  return (await httpJson(`${sim.url}/_sim/stats`)).json().byModel as Record<string, number>;
}

async function sanityCheck(sc: Scenario, t: Target): Promise<void> {
  const r = await httpJson(t.spec.url, 'POST', t.spec.body, { ...t.spec.headers });
  const ok = r.status === 200 && (sc.stream ? r.text.includes('data: ') && r.text.includes('[DONE]') : r.text.includes(`Simulated reply from ${SECONDARY}`));
  if (!ok) throw new Error(`sanity check failed for ${TARGET_LABELS[t.id]} in "${sc.title}": HTTP ${r.status} ${r.text.slice(0, 400)}`);
}

/** Opens the primary's circuit on the default gateway: requests until one no longer reaches the primary. */
async function openCircuit(sim: Service, target: Target): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const before = (await simStats(sim))[PRIMARY] ?? 0;
    const r = await httpJson(target.spec.url, 'POST', target.spec.body, { ...target.spec.headers });
    if (r.status !== 200) throw new Error(`opening the circuit: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    const after = (await simStats(sim))[PRIMARY] ?? 0;
    if (after === before && i >= 1) return;
  }
  throw new Error('the circuit for the primary did not open after 20 failing requests');
}

let warnedRss = false;

async function measure(
  kind: Kind,
  sc: Scenario,
  t: Target,
  conns: number,
  durationS: number,
  services: Record<string, Service>,
  sim: Service,
): Promise<Omit<Measurement, 'round'>> {
  const svc = t.service ? services[t.service] : undefined;
  const statsBefore = await simStats(sim);
  if (svc && !resetPeakRss(svc.pid) && !warnedRss) {
    warnedRss = true;
    log('cannot reset VmHWM (/proc/<pid>/clear_refs): peak RSS is since process start');
  }
  const cpuBefore = svc ? cpuMicros(svc.pid) : 0;
  const rssSampler = svc ? sampleRss(svc.pid) : undefined;
  const load: LoadResult = kind === 'ttfc' ? await runStreamClient(t.spec, conns, durationS) : await runAutocannon(t.spec, conns, durationS);
  const cpuAfter = svc ? cpuMicros(svc.pid) : 0;
  const rssSamples = rssSampler?.stop() ?? [];
  const rss = svc ? peakRss(svc.pid) : NaN;
  const statsAfter = await simStats(sim);
  const calls = (m: string) => ((statsAfter[m] ?? 0) - (statsBefore[m] ?? 0)) / Math.max(1, load.requests);
  return {
    scenario: sc.id,
    conns,
    target: t.id,
    kind,
    load,
    cpuUsPerReq: svc && load.requests > 0 ? (cpuAfter - cpuBefore) / load.requests : undefined,
    peakRssMB: svc ? rss / 2 ** 20 : undefined,
    rssMB: rssSamples.length ? rssSamples.reduce((a, b) => a + b, 0) / rssSamples.length : undefined,
    primaryPerReq: calls(PRIMARY),
    secondaryPerReq: calls(SECONDARY),
  };
}

export interface ProfileResult {
  /** All load windows together (start-up and warm-up left out). */
  readonly overall: ProfileSummary;
  readonly perLoad: ProfileSummary[];
  /** Worker threads (the SQLite record thread), busy time per load: their work never blocks the event loop. */
  readonly workerBusyMs: number[];
}

/**
 * Profiles a fresh gateway process with `node --cpu-prof` under autocannon:
 * single target, fallback and streaming, one after the other, after a warm-up.
 * The summaries keep only the samples taken during the loads (the profile's
 * clock is the machine's monotonic clock, as process.hrtime here).
 */
async function profileGateway(cfg: BenchConfig, policyFile: string, all: Scenario[]): Promise<ProfileResult> {
  const dir = join(RESULTS_DIR, 'profiles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const gw = await startOnFreePort((port) => ({
    name: 'ours-profiled',
    port,
    args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, DIST.profileEntry],
    cwd: ROOT,
    env: gatewayEnv(port, policyFile, 'ours-profiled'),
    readyPath: '/health/live',
  }));
  const conns = Math.max(...cfg.connections);
  const url = (u: string) => u.replace(/^http:\/\/127\.0\.0\.1:\d+/, gw.url);
  const cred = await credentials(gw, log);
  const loads: [string, RequestSpec][] = [];
  for (const id of ['single', 'fallback', 'stream'] as const) {
    const sc = all.find((s) => s.id === id)!;
    const t = sc.targets.find((x) => x.id === 'ours')!;
    const { authorization: _a, 'x-tenant-id': _t, ...headers } = t.spec.headers;
    loads.push([`${sc.title}, ${conns} connections`, { ...t.spec, url: url(t.spec.url), headers: { ...headers, ...cred } }]);
  }
  for (const [, spec] of loads) await runAutocannon(spec, conns, Math.max(1, cfg.warmup));
  const windows: Window[] = [];
  const cpu: { requests: number; cpuUs: number }[] = [];
  for (const [name, spec] of loads) {
    log(`profiling: ${name}, ${cfg.duration} s`);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const cpuBefore = cpuMicros(gw.pid);
    const r = await runAutocannon(spec, conns, cfg.duration);
    cpu.push({ requests: r.requests, cpuUs: cpuMicros(gw.pid) - cpuBefore });
    windows.push({ name, fromUs, toUs: Number(process.hrtime.bigint() / 1000n) });
  }
  await stopService(gw, 'SIGUSR2', 15_000);
  // One profile per thread: CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the event loop.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const isMain = (f: string) => /\.0\.\d+\.cpuprofile$/.test(f);
  const file = files.find(isMain);
  if (!file) throw new Error(`no main-thread .cpuprofile written in ${dir}`);
  const profile = readProfile(file);
  const workers = files.filter((f) => !isMain(f)).map((f) => ({ f, p: readProfile(f) }));
  return {
    overall: analyzeProfile(file, profile, { name: 'all loads', fromUs: windows[0]!.fromUs, toUs: windows[windows.length - 1]!.toUs }),
    perLoad: windows.map((w, i) => ({ ...analyzeProfile(file, profile, w), requests: cpu[i]!.requests, cpuMs: cpu[i]!.cpuUs / 1000 })),
    workerBusyMs: windows.map((w) => workers.reduce((sum, { f, p }) => sum + analyzeProfile(f, p, w).busyMs, 0)),
  };
}

async function main({ host, startProduction }: BenchEntry): Promise<void> {
  const cfg = benchConfig();
  const started = Date.now();
  mkdirSync(RESULTS_DIR, { recursive: true });
  log(`${host.nproc} cores, ${host.cpu}, Node ${host.node}, load average ${host.loadavg}`);
  log(`${cfg.rounds} rounds × ${cfg.duration} s per measurement, connections ${cfg.connections.join(', ')}`);

  log('library micro-benchmark ...');
  const micro = await runMicroProcesses(cfg);
  log(`library: ${micro.routedUs.toFixed(1)} µs routed vs ${micro.directUs.toFixed(1)} µs direct: +${micro.overheadUs.toFixed(1)} µs/call`);

  if (!cfg.skip.includes('streams')) checkFileLimit(cfg.streams.count);
  const production = cfg.production ? await startProduction() : undefined;
  const fleet = await startFleet(log, { fallback: true, production });
  const { sim, services } = fleet;

  // The primary is down for the whole run: every request for it gets the OpenAI 503.
  await httpJson(`${sim.url}/_sim/faults`, 'POST', { match: { model: PRIMARY }, fault: { error: 'overloaded' } });

  const all = defineScenarios(fleet.endpoints);
  const chosen = all.filter((s) => !cfg.only || cfg.only.includes(s.id));
  for (const sc of chosen) for (const t of sc.targets) await sanityCheck(sc, t);
  if (chosen.some((s) => s.id === 'circuit')) await openCircuit(sim, all.find((s) => s.id === 'circuit')!.targets[0]!);

  // The plan of one round: every connection count (fewest first), scenario and target, with the TTFC runs for
  // streams (1 connection) after the 1-connection loads. No latency measurement at 1 connection directly follows a
  // 32-connection load, whose after-effects (record inserts, collections) would land on it and not on the rows
  // it is compared with (the open circuit's against the single target's).
  type Step = { kind: Kind; sc: Scenario; conns: number; targets: readonly Target[] };
  const steps: Step[] = [];
  const ttfcSteps: Step[] = chosen.filter((sc) => sc.stream).map((sc) => ({ kind: 'ttfc', sc, conns: 1, targets: sc.targets }));
  for (const conns of [...cfg.connections].sort((a, b) => a - b)) {
    if (conns > 1 && ttfcSteps.length > 0) steps.push(...ttfcSteps.splice(0));
    for (const sc of chosen) steps.push({ kind: 'load', sc, conns, targets: sc.targets });
  }
  steps.push(...ttfcSteps);
  const perRound = steps.reduce((n, s) => n + s.targets.length, 0);
  log(`${perRound} measurements per round, ${cfg.rounds} rounds: about ${Math.ceil((perRound * (cfg.duration + 0.4) * cfg.rounds) / 60)} min`);

  if (cfg.warmup > 0) {
    log('warm-up ...');
    const warmed = new Set<string>();
    for (const st of steps) {
      for (const t of st.targets) {
        const key = `${st.kind}|${st.sc.id}|${t.id}`;
        if (warmed.has(key)) continue;
        warmed.add(key);
        await measure(st.kind, st.sc, t, Math.max(...cfg.connections), cfg.warmup, services, sim);
      }
    }
  }

  // Idle: every process at rest after its warm-up.
  const idleMB: Partial<Record<TargetId, number>> = {};
  for (const [name, svc] of Object.entries(services)) if (name !== 'oursFallback') idleMB[name as TargetId] = await settledRss(svc.pid);

  const measurements: Measurement[] = [];
  for (let round = 0; round < cfg.rounds; round++) {
    log(`round ${round + 1}/${cfg.rounds}`);
    for (const st of steps) {
      for (const t of rotate(st.targets, round)) {
        const m = await measure(st.kind, st.sc, t, st.conns, cfg.duration, services, sim);
        measurements.push({ round, ...m });
        const l = m.load;
        log(
          `  ${st.sc.id.padEnd(8)} ${st.kind.padEnd(4)} c=${String(st.conns).padEnd(2)} ${TARGET_LABELS[t.id].padEnd(22)} ${l.rps.toFixed(0).padStart(6)} req/s  p50 ${l.p50.toFixed(3)} ms  p99 ${l.p99.toFixed(3)} ms` +
            (l.ttfcP50 !== undefined ? `  ttfc ${l.ttfcP50.toFixed(3)} ms` : '') +
            (m.cpuUsPerReq !== undefined ? `  cpu ${m.cpuUsPerReq.toFixed(0)} µs/req` : '') +
            (l.non2xx + l.errors > 0 ? `  ${l.non2xx} non-2xx ${l.errors} errors` : ''),
        );
        await sleep(200);
      }
    }
  }

  const rows = aggregate(measurements, all);
  let fixedRate: FixedRateResult | undefined;
  if (!cfg.skip.includes('fixed-rate') && chosen.some((s) => FIXED_RATE_SCENARIOS.includes(s.id))) {
    const settings = fixedRateSettings(cfg);
    const capacities: Partial<Record<ScenarioId, Partial<Record<TargetId, number>>>> = {};
    for (const r of rows) if (r.kind === 'load' && r.conns === settings.conns) (capacities[r.scenario] ??= {})[r.target] = r.rps;
    log('CPU per request at a fixed offered rate ...');
    // Information beside the targets: a failure here must not lose the run's other results.
    fixedRate = await runFixedRate(chosen, services, capacities, settings, log).catch((err: unknown) => {
      log(`fixed rate not measured: ${(err as Error).message}`);
      return undefined;
    });
  }
  const checks = checkTargets(rows, micro, Math.max(...cfg.connections), fixedRate);
  const missed = checks.filter((c) => !c.met);

  let profile: ProfileResult | undefined;
  if (cfg.profile === 'always' || (cfg.profile === 'auto' && missed.length > 0)) {
    log(missed.length > 0 ? `${missed.length} target(s) missed: profiling the gateway` : 'profiling the gateway');
    try {
      profile = await profileGateway(cfg, fleet.fallbackPolicy, all);
    } catch (err) {
      log(`profiling failed: ${(err as Error).message}`);
    }
  }

  const maxConns = Math.max(...cfg.connections);
  let streams: OpenStreamsResult[] | undefined;
  if (!cfg.skip.includes('streams')) {
    log(`open streams: ${cfg.streams.count} at once, a chunk every ${cfg.streams.chunkMs} ms for ${cfg.streams.seconds} s, through each target in turn`);
    // The open-circuit scenario's cool-down (an hour) is no setting to hold thousands of streams with.
    await replacePolicy(services.ours!, fleet.policy);
    streams = await runOpenStreams(sim.url, streamTargets(fleet, cfg.streams.targets), cfg.streams, log);
    checks.push(...streamsChecks(streams, ['ours', 'prod']));
  }
  let features: FeatureCost[] | undefined;
  if (production && services.prod && fleet.endpoints.prod && !cfg.skip.includes('features')) {
    log('cost of each feature: the production configuration with one switched off, single target');
    features = await runFeatureCosts(featureCostsRun(cfg, fleet.policy, production), log);
  }
  let soak: SoakResult | undefined;
  if (!cfg.skip.includes('soak')) {
    // The other processes stay up, idle: the soak's gateway is a fresh one of its own.
    soak = await runSoak({ simUrl: sim.url, policy: fleet.policy, shared: production?.env('soak'), seconds: cfg.soak.seconds, sampleS: cfg.soak.sampleS, conns: maxConns }, log);
    checks.push(...soakChecks(soak));
  }

  await fleet.stop();

  const md = renderMarkdown(host, cfg, rows, checks, micro, profile, all, (Date.now() - started) / 1000, { idleMB, fixedRate, streams, features, soak });
  writeFileSync(join(RESULTS_DIR, 'latest.md'), md);
  writeFileSync(
    join(RESULTS_DIR, 'latest.json'),
    JSON.stringify({ machine: host, config: cfg, micro, rows, targets: checks, idleRssMB: idleMB, fixedRate: fixedRate ?? null, openStreams: streams ?? null, featureCosts: features ?? null, soak: soak ?? null, measurements, profile: profile ?? null }, null, 2) + '\n',
  );
  process.stdout.write(`\n${md}\n`);
  log(`written: bench/results/latest.md and bench/results/latest.json (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

function renderMarkdown(
  host: Machine,
  cfg: BenchConfig,
  rows: ReturnType<typeof aggregate>,
  checks: TargetCheck[],
  micro: MicroResult & { processes: number },
  profile: ProfileResult | undefined,
  all: Scenario[],
  seconds: number,
  more: { idleMB: Partial<Record<TargetId, number>>; fixedRate?: FixedRateResult; streams?: OpenStreamsResult[]; features?: FeatureCost[]; soak?: SoakResult },
): string {
  const maxConns = Math.max(...cfg.connections);
  const parts = [
    '# Benchmark: llm-router gateway vs direct, Portkey and a bare node:http proxy',
    '',
    `${machineLine(host)} ` +
      `${cfg.rounds} rounds × ${cfg.duration} s per measurement, interleaved; medians over the rounds. Run time ${Math.round(seconds)} s. ` +
      'Reproduce: `npm ci && npm run bench` (`BENCH_DURATION`, `BENCH_ROUNDS` to change the length).',
    '',
    '## Gateways under load',
    '',
    mainTable(rows, all),
    '',
    'Everything on 127.0.0.1: the simulated provider (its own process), each gateway (its own process), and autocannon ' +
      'in the benchmark process. *added p50*: p50 minus the direct call\'s p50 in the same round (the direct call to the secondary for the fallback rows). ' +
      '*× direct*, *× Portkey*: req/s ratios within the same round (for the open circuit, against Portkey\'s fallback: without a breaker that is what it keeps doing). ' +
      '*CPU µs/req*: utime + stime of the gateway process from /proc/<pid>/stat over the measurement, per request. *peak RSS*: VmHWM, reset before each measurement, highest over the rounds. ' +
      '*upstream calls/req*: counted by the simulator. *± spread*: half the min–max range of req/s over the rounds.',
    '',
    '† The fallback scenario runs on a second llm-router gateway process whose policy raises `circuit.failureThreshold`, so that every request really tries the primary; ' +
      'with the default (5) the circuit opens after five requests and the scenario becomes the open-circuit one, measured on the first process (default circuit settings, cool-down stretched to outlast the run; it goes back to the bench\'s policy for the open streams).',
    '',
    ...(rows.some((r) => r.target === 'prod')
      ? [
          '## The production configuration',
          '',
          productionTable(rows),
          '',
          'The gateway with `LLM_REDIS_URL` (the local Redis, a key prefix of its own: budget leases, circuits, the record journal) and `DATABASE_URL` (the local PostgreSQL, a schema of its own, dropped after the run: records, keys), API keys on and the tenant budget on, beside the embedded one (SQLite, in-process ledger and circuits) in the same rounds. ' +
            'Each ratio is this row over the embedded gateway\'s (or the bare proxy\'s) in the same round and scenario, median over the rounds. Target: CPU per request within 1.3× the embedded gateway\'s.',
          '',
        ]
      : []),
    ...(more.fixedRate ? ['## CPU per request at a fixed offered rate', '', fixedRateTable(more.fixedRate, all), '', fixedRateNote(more.fixedRate), ''] : []),
    '## Memory',
    '',
    memoryTable(rows, more.idleMB, maxConns),
    '',
    '*idle*: VmRSS after the warm-up, at rest (once it stays within 1 MB for 2 s). *under load*: the mean of VmRSS samples (every 250 ms) during the single-target measurement, highest median over the rounds. *peak*: VmHWM, reset before each measurement, the highest of any. `npm run bench -- memory` takes a heap snapshot of the gateway under load and says where the memory goes. ' +
      '*Nest + fastify app, no work* (bench/src/nest-floor.ts) is an empty NestJS application on the fastify adapter whose one route forwards to the simulator with undici: ' +
      "the memory any gateway built on Nest holds before doing anything. Its CPU is not the gateway's floor: the gateway serves /v1/chat/completions on raw node:http, outside Nest's router (the floors benchmark measures that stack).",
    '',
    ...(more.streams
      ? [
          '## Open streams',
          '',
          streamsTable(more.streams),
          '',
          ...streamsFailures(more.streams),
          `${streamsNote(cfg.streams)} The long form: \`npm run bench -- streams\` (5,000 streams for 20 s).`,
          '',
        ]
      : []),
    ...(more.features
      ? [
          '## Cost of each feature',
          '',
          featureCostsTable(more.features),
          '',
          featureCostsNote(featureCostsSettings(cfg)),
          '',
        ]
      : []),
    ...(more.soak ? ['## Soak', '', soakMarkdown(more.soak), '', 'The documented run: `BENCH_SOAK_SECONDS=1800 npm run bench -- soak`.', ''] : []),
    '## Streaming: time to first chunk',
    '',
    ttfcTable(rows),
    '',
    'A node:http client times the first body chunk and the end of each stream (9 SSE events from the simulator, sent in one write).',
    '',
    '## Library alone',
    '',
    microTable(micro),
    '',
    `${micro.processes} processes, each timing ${micro.batches} interleaved batches of ${micro.calls.toLocaleString('en-US')} calls; in each process the fastest batch counts (other work on the machine only adds time), and the process with the median overhead is shown (V8 sometimes settles a process's optimizations worse). Direct: the same in-process fake transport (ScriptedTransport) called without the router, serializing the request and parsing the answer. ` +
      'Through LlmRouter: planning, request translation, circuit gate, categorization of the 503, response parsing and the routing record (with a subscriber).',
    '',
    '## Targets',
    '',
    targetsTable(checks),
    '',
  ];
  if (profile) {
    parts.push(
      "## Where the gateway's time goes",
      '',
      `\`node --cpu-prof\` on a fresh llm-router gateway process (the fallback scenario's policy) under autocannon: single target, fallback and streaming, ${Math.max(...cfg.connections)} connections, ${cfg.duration} s each after a warm-up; only the samples taken during the loads are counted.`,
      '',
      windowsMarkdown(profile.perLoad),
      '',
      `The table is the event loop's (main thread's) profile. Beside it, the SQLite record thread (routing-record inserts) was busy ${profile.perLoad
        .map((l, i) => `${((profile.workerBusyMs[i] ?? 0) / Math.max(1, l.requests ?? 1) * 1000).toFixed(0)} µs per request (${l.window})`)
        .join('; ')}: counted in the /proc CPU time, never in the event loop's.`,
      '',
      'By layer, per load: share of the busy time and, in brackets, main-thread µs per request (each sample counted once, for the first layer found from the leaf of its stack up, i.e. time spent in or on behalf of that layer). ' +
        "The /proc CPU time above is higher than the profile's busy time: it also counts V8's garbage-collection and compiler threads.",
      '',
      layersMarkdown(profile.perLoad),
      '',
      "Caveat: V8's sampler tends to credit the `writev` binding (socket writes) with more than a native profiler does; " +
        'a `perf record` cross-check on this machine (2026-11-25, single-target load) put node::StreamBase::Writev, kernel TCP included, at about 12 % of the process CPU where the V8 profile said 22-26 %. ' +
        'The bare proxy makes the same socket writes: `strace -c` counts two `writev` per request for both, JSON and SSE alike (node corks the response within a tick).',
      '',
      profileMarkdown(profile.overall),
      '',
    );
  }
  return parts.join('\n');
}

runBenchEntry(log, main);
