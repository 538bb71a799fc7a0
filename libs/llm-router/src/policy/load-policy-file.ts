import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PolicyValidationError } from './policy-validation.error.js';

/** Read a YAML or JSON policy file; syntax errors are reported like schema errors. */
export function loadPolicyFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ path: '(file)', message: `cannot read ${path}: ${(err as Error).message}` }], `policy file ${path}`);
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new PolicyValidationError([{ path: '(file)', message: `cannot parse ${path}: ${(err as Error).message}` }], `policy file ${path}`);
  }
}
