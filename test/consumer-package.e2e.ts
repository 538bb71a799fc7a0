/**
 * The library as another team gets it: `npm pack` in libs/llm-router (its
 * prepack cleans and rebuilds dist/), the tarball's file list, then a fresh
 * Nest 12 app (test/consumer-app) copied outside the repo that installs the
 * tarball (dependencies from the npm cache or the registry, ioredis absent),
 * type-checks with `tsc` (strict, skipLibCheck off, declaration on), boots,
 * and routes through a controller decorated with @TrafficClass/@QualityFloor
 * to the simulator: the primary answers, a forced primary failure falls back.
 *
 * scripts/run-tests.mjs runs this file on its own, after every other file and
 * with a longer timeout: npm install takes a while, and prepack rebuilds the
 * dist/ the other files import. LLM_ROUTER_KEEP_CONSUMER_APP=1 keeps the
 * scratch folder for a look after a failure.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { RouteOutcome, RoutingRecord } from '@llm-router/nestjs';
import { startSimulator, type SimulatorHandle } from '../apps/simulator/src/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIBRARY = join(ROOT, 'libs/llm-router');
const FIXTURE = join(ROOT, 'test/consumer-app');
const KEEP = process.env.LLM_ROUTER_KEEP_CONSUMER_APP === '1';

interface Step {
  stdout: string;
  stderr: string;
}

/**
 * The environment for npm and the app: this process's, without the variables
 * `npm test` sets for its own lifecycle (npm_config_local_prefix and the like
 * would point npm at the repo instead of the scratch app).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || keep.has(k.toLowerCase())) env[k] = v;
  delete env.INIT_CWD;
  return { ...env, ...extra };
}

/** Runs a command to its end; fails with its output when it exits non-zero or outlives `timeoutMs`. */
function step(what: string, file: string, args: string[], cwd: string, timeoutMs: number): Promise<Step> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env: cleanEnv(), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const why = err.killed ? `did not finish within ${timeoutMs} ms` : `failed (${err.code ?? err.signal})`;
      reject(new Error(`${what}: \`${[file, ...args].join(' ')}\` in ${cwd} ${why}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`));
    });
  });
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** The version the root package-lock installs for `name` (a top-level package). */
function lockedVersion(lock: { packages: Record<string, { version?: string }> }, name: string): string {
  const version = lock.packages[`node_modules/${name}`]?.version;
  assert.ok(version, `${name} (in test/consumer-app/package.template.json) is not installed by the root package-lock.json`);
  return version;
}

interface App {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** Starts the scratch app and waits for its "listening on" line. */
function bootApp(dir: string, simUrl: string, timeoutMs = 30_000): Promise<App> {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: cleanEnv({ SIM_URL: simUrl, PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const output = () => tail(out);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the consumer app did not print its URL within ${timeoutMs} ms; its output:\n${output()}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /consumer-app listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the consumer app exited (code ${code}, signal ${signal}) before it listened; its output:\n${output()}`));
    });
  });
}

async function stopApp(app: App | undefined): Promise<void> {
  const child = app?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** One HTTP call with a bounded wait: its JSON body, or a failure that names the call. */
async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  assert.ok(res.ok, `${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

interface SupportReply {
  reply: string | null;
  outcome: RouteOutcome;
}

describe('the packed library in a Nest 12 app outside the repo', () => {
  let work: string;
  let appDir: string;
  let tarball: string | undefined;
  let installed = false;
  let sim: SimulatorHandle | undefined;
  let app: App | undefined;

  before(() => {
    work = realpathSync(mkdtempSync(join(tmpdir(), 'llm-router-consumer-')));
    appDir = join(work, 'app');
    assert.ok(relative(ROOT, work).startsWith('..'), `the scratch folder ${work} must be outside the repo ${ROOT}`);
  });

  after(async () => {
    await stopApp(app);
    await sim?.close();
    if (KEEP) console.log(`consumer app kept in ${appDir}`);
    else rmSync(work, { recursive: true, force: true });
  });

  it('npm pack ships only dist/, package.json, README and LICENSE, with the .d.ts of every export', async () => {
    const { stdout } = await step('npm pack', 'npm', ['pack', '--json', '--pack-destination', work], LIBRARY, 150_000);
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(packed, `npm pack printed no package: ${stdout}`);
    const files = packed.files.map((f) => f.path);
    const shipped = new Set(files);

    for (const top of ['package.json', 'README.md', 'LICENSE']) assert.ok(shipped.has(top), `${top} is in the tarball`);
    assert.deepEqual(files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(f)), [], 'nothing outside dist/ but package.json, README and LICENSE');
    const unwanted = (f: string) => /\.spec(-helper)?\.|\.tsbuildinfo$|\.d\.ts\.map$/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'));
    assert.deepEqual(files.filter(unwanted), [], 'no specs, sources, build info or declaration maps');

    const pkg = JSON.parse(readFileSync(join(LIBRARY, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      exports: Record<string, string | { types: string; default: string }>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    const entries = Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : [e.types, e.default]));
    for (const path of [pkg.main, pkg.types, ...entries]) assert.ok(shipped.has(path.replace(/^\.\//, '')), `${path} (an entry of package.json) is in the tarball`);
    for (const js of files.filter((f) => f.endsWith('.js'))) assert.ok(shipped.has(js.replace(/\.js$/, '.d.ts')), `${js} ships with its .d.ts`);

    // prepack cleaned dist/: every shipped file comes from a source that still exists.
    const stale = files.filter((f) => f.startsWith('dist/') && !existsSync(join(LIBRARY, 'src', f.slice('dist/'.length).replace(/(\.d\.ts|\.js\.map|\.js)$/, '.ts'))));
    assert.deepEqual(stale, [], 'no output of a deleted source');
    assert.equal(pkg.peerDependenciesMeta.ioredis?.optional, true, 'ioredis is an optional peer');

    tarball = join(work, packed.filename);
    assert.ok(existsSync(tarball), `the tarball ${tarball} was written`);
  });

  it('installs from the tarball into the scratch app, without ioredis and with one copy of Nest', async (t) => {
    if (!tarball) return t.skip('no tarball: npm pack failed');
    cpSync(FIXTURE, appDir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const pkg = JSON.parse(readFileSync(join(appDir, 'package.template.json'), 'utf8')) as Record<string, unknown> & {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const deps of [pkg.dependencies, pkg.devDependencies]) for (const name of Object.keys(deps)) deps[name] = lockedVersion(lock, name);
    pkg.dependencies['@llm-router/nestjs'] = `file:${tarball}`;
    writeFileSync(join(appDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    rmSync(join(appDir, 'package.template.json'));

    await step('npm install', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], appDir, 240_000);

    const installedAt = realpathSync(join(appDir, 'node_modules/@llm-router/nestjs'));
    assert.ok(installedAt.startsWith(appDir + sep), `the library is a copy inside the app (${installedAt}), not a link into the repo`);
    const manifest = JSON.parse(readFileSync(join(installedAt, 'package.json'), 'utf8')) as { name: string; peerDependencies: Record<string, string> };
    assert.equal(manifest.name, '@llm-router/nestjs');
    assert.equal(existsSync(join(appDir, 'node_modules/ioredis')), false, 'ioredis is not installed');
    const ownCopies = Object.keys(manifest.peerDependencies).filter((peer) => existsSync(join(installedAt, 'node_modules', peer)));
    assert.deepEqual(ownCopies, [], 'the library uses the app’s copies of its peers (one @nestjs/core), not its own');
    installed = true;
  });

  it('type-checks with tsc (strict, skipLibCheck off) against the shipped .d.ts', async (t) => {
    if (!installed) return t.skip('the scratch app did not install');
    const tsc = (...args: string[]) => step('tsc', process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', ...args], appDir, 180_000);
    await tsc();
    const listed = (await tsc('--listFilesOnly')).stdout.split('\n').map((l) => l.trim());
    for (const entry of ['dist/index.d.ts', 'dist/health/index.d.ts']) {
      assert.ok(listed.includes(join(appDir, 'node_modules/@llm-router/nestjs', entry)), `tsc read the package's ${entry}`);
    }
    assert.deepEqual(listed.filter((f) => f.startsWith(LIBRARY)), [], 'tsc read nothing from libs/');
    assert.ok(existsSync(join(appDir, 'dist/support.controller.d.ts')), 'the app’s own declarations were emitted');
  });

  it('boots and routes through @TrafficClass/@QualityFloor: the primary answers, a forced primary failure falls back', async (t) => {
    // tsc emits despite type errors: the app still boots, to tell a typing fault from a runtime one.
    if (!installed || !existsSync(join(appDir, 'dist/main.js'))) return t.skip('the scratch app was not installed and compiled');
    sim = await startSimulator({ port: 0 });
    app = await bootApp(appDir, sim.url);
    try {
      await routeThroughTheApp(sim, app.url);
    } catch (err) {
      if (err instanceof Error) err.message += `\n--- the consumer app's output\n${app.output()}`;
      throw err;
    }
  });
});

async function routeThroughTheApp(sim: SimulatorHandle, url: string): Promise<void> {
  const chat = (message: string) =>
    call<SupportReply>(`${url}/support/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' }, body: JSON.stringify({ message }) });

  const first = await chat('hello');
  assert.equal(first.reply, 'Simulated reply from consumer-primary: hello');
  assert.deepEqual(
    { trafficClass: first.outcome.trafficClass, model: first.outcome.model, provider: first.outcome.provider, fallback: first.outcome.fallback, attempts: first.outcome.attempts },
    { trafficClass: 'support-chat', model: 'primary', provider: 'sim-openai', fallback: false, attempts: 1 },
  );
  assert.equal((await call<{ llm: { status: string } }>(`${url}/health`)).llm.status, 'up');

  // The primary fails from now on (the simulator's admin API, as an operator would).
  await call(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ match: { model: 'consumer-primary' }, fault: { error: 'server_error' } }) });
  const second = await chat('again');
  assert.equal(second.reply, 'Simulated reply from consumer-secondary: again');
  assert.deepEqual(
    { model: second.outcome.model, provider: second.outcome.provider, upstreamModel: second.outcome.upstreamModel, fallback: second.outcome.fallback, attempts: second.outcome.attempts },
    { model: 'secondary', provider: 'sim-anthropic', upstreamModel: 'consumer-secondary', fallback: true, attempts: 2 },
  );
  assert.deepEqual(sim.stats().byModel, { 'consumer-primary': 2, 'consumer-secondary': 1 });

  // The routing record: the decorators' class and floor, the caller's tenant, the failed primary attempt.
  const records = await call<RoutingRecord[]>(`${url}/support/records`);
  const record = records.find((r) => r.requestId === second.outcome.requestId);
  assert.ok(record, `a routing record for ${second.outcome.requestId} among ${records.length}`);
  assert.deepEqual(
    { tenant: record.tenant, trafficClass: record.trafficClass, qualityFloor: record.qualityFloor, servedBy: record.servedBy?.model, fallback: record.fallback },
    { tenant: 'acme', trafficClass: 'support-chat', qualityFloor: { tier: 'premium', capabilities: ['tools'] }, servedBy: 'secondary', fallback: true },
  );
  assert.deepEqual(
    record.attempts.map((a) => [a.model, a.outcome, a.status]),
    [
      ['primary', 'failure', 500],
      ['secondary', 'success', undefined],
    ],
  );

  // The terminus indicator from '@llm-router/nestjs/health': one failure opened the primary's circuit.
  const health = await call<{ llm: { status: string; openCircuits?: string[] } }>(`${url}/health`);
  assert.deepEqual({ status: health.llm.status, openCircuits: health.llm.openCircuits }, { status: 'degraded', openCircuits: ['primary'] });
}
