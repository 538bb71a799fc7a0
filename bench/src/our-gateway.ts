/**
 * The llm-router gateway as the benchmarks run it: its production defaults
 * on loopback, the bench's policy pointed at this run's simulator, and an API
 * key from its admin API.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { compilePolicy, loadPolicyFile, type CompiledClass, type CompiledPolicy } from '@llm-router/nestjs';
import { BENCH_DIR, POLICY_DIR, RUN_DIR } from './config.js';
import { httpJson, type Service } from './processes.js';

const ADMIN_KEY = `bench_admin_${randomBytes(16).toString('hex')}`;
/** The admin API's credential, for every gateway the benchmark starts. */
export const ADMIN_HEADERS = { authorization: `Bearer ${ADMIN_KEY}` };

/** The gateway's environment: its production defaults, on loopback, with the bench's policy. */
export const gatewayEnv = (port: number, policyFile: string, name: string) => ({
  PORT: String(port),
  HOST: '127.0.0.1',
  LLM_POLICY_FILE: policyFile,
  LLM_SIMULATOR: 'off',
  NODE_ENV: 'production',
  // Its own store file per run (persistence on, as in production), and an admin key to create the bench's API key with.
  LLM_SQLITE_PATH: join(RUN_DIR, `${name}.sqlite`),
  LLM_ADMIN_KEY: ADMIN_KEY,
});

/**
 * The production configuration: the same, plus a Redis of its own (budget
 * leases, circuits, the record journal) and PostgreSQL (records, keys) in
 * place of the SQLite file.
 */
export const productionGatewayEnv = (port: number, policyFile: string, name: string, shared: Record<string, string>) => ({
  ...gatewayEnv(port, policyFile, name),
  ...shared,
  // The journal's fallback files while Redis is away: under the run's scratch, not the repository's data/.
  LLM_RECORD_JOURNAL_DIR: join(RUN_DIR, `${name}.records`),
});

/**
 * Writes the policy copies the gateway processes use, pointed at this run's
 * simulator: the bench's policy, the open-circuit scenario's (its opened
 * circuit must stay open for the whole run: the cool-down stretched to an
 * hour, which nothing else should carry: one slow moment would shut a target
 * for the rest of the run) and the fallback scenario's (the circuit never opens).
 */
export function writePolicies(simUrl: string): { policy: string; openCircuitPolicy: string; fallbackPolicy: string } {
  const doc = parseYaml(readFileSync(join(BENCH_DIR, 'policy.yaml'), 'utf8')) as {
    providers: Record<string, { baseUrl: string }>;
    circuit?: Record<string, number>;
  };
  for (const p of Object.values(doc.providers)) p.baseUrl = p.baseUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, simUrl);
  // A folder of its own: the gateway watches the policy's folder (to see it replaced), and the store files and logs
  // written beside it in RUN_DIR woke its event loop on every write (0.07 reads and ~1 µs of system time per request).
  mkdirSync(POLICY_DIR, { recursive: true });
  const policy = join(POLICY_DIR, 'policy.yaml');
  writeFileSync(policy, `# Written by the benchmark from bench/policy.yaml\n${toYaml(doc)}`);
  const circuit = doc.circuit;
  doc.circuit = { ...circuit, cooldownMs: 3_600_000 };
  const openCircuitPolicy = join(POLICY_DIR, 'policy.open-circuit.yaml');
  writeFileSync(openCircuitPolicy, `# Written by the benchmark from bench/policy.yaml: an opened circuit stays open for an hour\n${toYaml(doc)}`);
  doc.circuit = { ...circuit, failureThreshold: 1_000_000_000 };
  const fallbackPolicy = join(POLICY_DIR, 'policy.fallback.yaml');
  writeFileSync(fallbackPolicy, `# Written by the benchmark from bench/policy.yaml: the circuit never opens\n${toYaml(doc)}`);
  return { policy, openCircuitPolicy, fallbackPolicy };
}

/**
 * Gives a running gateway the policy in `policyFile` (PUT /admin/policy): the
 * open-circuit scenario's gateway goes back to the bench's policy before it
 * holds the open streams.
 */
export async function replacePolicy(gw: Service, policyFile: string): Promise<void> {
  const r = await httpJson(`${gw.url}/admin/policy`, 'PUT', parseYaml(readFileSync(policyFile, 'utf8')), ADMIN_HEADERS);
  if (r.status !== 200) throw new Error(`${gw.name}: PUT /admin/policy: HTTP ${r.status} ${r.text.slice(0, 300)}`);
}

/** A class of the bench's policy (bench/policy.yaml) as the gateway compiles it, defaults filled in, with the policy's circuit. */
export function benchClass(name: string): { cls: CompiledClass; circuit: CompiledPolicy['circuit'] } {
  const policy = compilePolicy(loadPolicyFile(join(BENCH_DIR, 'policy.yaml')));
  return { cls: policy.classes.get(name)!, circuit: policy.circuit };
}

/** A copy of a written policy, changed by `change`, beside it as `<name>.<suffix>.yaml`. */
export function writePolicyVariant(policyFile: string, suffix: string, why: string, change: (doc: Record<string, any>) => void): string {
  const doc = parseYaml(readFileSync(policyFile, 'utf8')) as Record<string, any>;
  change(doc);
  const out = policyFile.replace(/\.yaml$/, `.${suffix}.yaml`);
  writeFileSync(out, `# Written by the benchmark from ${policyFile}: ${why}\n${toYaml(doc)}`);
  return out;
}

/** The gateway with no tenant budget. */
export const writePolicyWithoutBudgets = (policyFile: string) => writePolicyVariant(policyFile, 'no-budgets', 'no tenant budget', (doc) => delete doc.budgets);

/**
 * An API key for tenant "bench" from the gateway's admin API (its production
 * default is API keys on every /v1 call). A gateway without the admin API gets
 * the tenant in `x-tenant-id` instead.
 */
export async function credentials(gw: Service, log: (s: string) => void): Promise<Record<string, string>> {
  const r = await httpJson(`${gw.url}/admin/keys`, 'POST', { tenant: 'bench', name: 'benchmark' }, ADMIN_HEADERS);
  if (r.status === 201 || r.status === 200) return { authorization: `Bearer ${r.json().key as string}` };
  if (r.status === 404) {
    log(`${gw.name}: no admin API (POST /admin/keys: 404): sending the tenant in x-tenant-id`);
    return { 'x-tenant-id': 'bench' };
  }
  throw new Error(`${gw.name}: creating an API key failed: HTTP ${r.status} ${r.text.slice(0, 300)}`);
}
