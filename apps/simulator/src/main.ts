/**
 * CLI: `node dist/apps/simulator/src/main.js`
 *   SIM_PORT (default 4010), SIM_HOST (default 127.0.0.1),
 *   SIM_FAULTS (JSON rule or array) or SIM_FAULTS_FILE (path to such JSON).
 */
import { readFileSync } from 'node:fs';
import { FaultRuleError, parseFaultRules, type FaultRule } from './fault-rules.js';
import { logLine } from './log-line.js';
import { startSimulator } from './simulator.server.js';

function die(message: string): never {
  logLine('error', message);
  process.exit(1);
}

function faultsFromEnv(env: NodeJS.ProcessEnv): FaultRule[] {
  let text: string | undefined;
  let source = 'SIM_FAULTS';
  if (env.SIM_FAULTS !== undefined && env.SIM_FAULTS.trim() !== '') {
    text = env.SIM_FAULTS;
  } else if (env.SIM_FAULTS_FILE) {
    source = env.SIM_FAULTS_FILE;
    try {
      text = readFileSync(env.SIM_FAULTS_FILE, 'utf8');
    } catch (err) {
      die(`cannot read SIM_FAULTS_FILE ${env.SIM_FAULTS_FILE}: ${(err as Error).message}`);
    }
  }
  if (text === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    die(`${source} is not valid JSON`);
  }
  try {
    return parseFaultRules(json);
  } catch (err) {
    if (err instanceof FaultRuleError) die(`${source}: ${err.message}`);
    throw err;
  }
}

const rawPort = process.env.SIM_PORT ?? '4010';
const port = Number(rawPort);
if (!/^\d+$/.test(rawPort) || port > 65535) die(`SIM_PORT must be a port number, got '${rawPort}'`);
const host = process.env.SIM_HOST || '127.0.0.1';
const faults = faultsFromEnv(process.env);

const sim = await startSimulator({ port, host, faults });
logLine(
  'info',
  `LLM simulator listening on ${sim.url} (OpenAI: ${sim.url}/openai/v1, Anthropic: ${sim.url}/anthropic, admin: ${sim.url}/_sim; ${faults.length} fault rule(s))`,
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logLine('error', `error while closing on ${signal}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
