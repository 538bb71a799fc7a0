import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { interpolatePolicyEnv } from './policy-env.js';
import { PolicyValidationError } from './policy-validation.error.js';

/** Read a YAML or JSON policy file, `${VAR}` references filled from `env`; syntax errors are reported like schema errors. */
export function loadPolicyFile(path: string, env: Readonly<Record<string, string | undefined>> = process.env): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ path: '(file)', message: `cannot read ${path}: ${(err as Error).message}` }], `policy file ${path}`);
  }
  let document: unknown;
  try {
    document = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new PolicyValidationError([{ path: '(file)', message: `cannot parse ${path}: ${(err as Error).message}` }], `policy file ${path}`);
  }
  return interpolatePolicyEnv(document, env, `policy file ${path}`);
}
