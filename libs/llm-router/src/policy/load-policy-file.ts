import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { compilePolicy } from './compile-policy.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { expandPolicyEnv, interpolatePolicyEnv } from './policy-env.js';
import { PolicyValidationError } from './policy-validation.error.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Read a YAML or JSON policy file, `${VAR}` references filled from `env`; syntax errors are reported like schema errors. */
export function loadPolicyFile(path: string, env: Env = process.env): unknown {
  const { text, format } = readPolicyFile(path);
  return interpolatePolicyEnv(parsePolicyText(text, format, `policy file ${path}`), env, `policy file ${path}`);
}

/**
 * Read, interpolate and compile a policy file in one pass: unset variables,
 * schema errors and cross-reference errors in one PolicyValidationError.
 */
export function compilePolicyFile(path: string, env: Env = process.env): CompiledPolicy {
  const { text, format } = readPolicyFile(path);
  return compilePolicyText(text, format, `policy file ${path}`, env);
}

/** The same for a policy given as text (a reload's body): JSON, or YAML (a superset of JSON). */
export function compilePolicyText(text: string, format: 'json' | 'yaml', source: string, env: Env = process.env): CompiledPolicy {
  const expanded = expandPolicyEnv(parsePolicyText(text, format, source), env);
  return compilePolicy(expanded.document, source, expanded.issues);
}

/** The document a policy text holds; a syntax error is a PolicyValidationError. */
export function parsePolicyText(text: string, format: 'json' | 'yaml', source: string): unknown {
  try {
    return format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new PolicyValidationError([{ path: '(file)', message: `cannot parse ${source}: ${(err as Error).message}` }], source);
  }
}

/** A policy file's text and its format (JSON by the `.json` extension, else YAML); unreadable is a PolicyValidationError. */
export function readPolicyFile(path: string): { text: string; format: 'json' | 'yaml' } {
  try {
    return { text: readFileSync(path, 'utf8'), format: path.endsWith('.json') ? 'json' : 'yaml' };
  } catch (err) {
    throw new PolicyValidationError([{ path: '(file)', message: `cannot read ${path}: ${(err as Error).message}` }], `policy file ${path}`);
  }
}
