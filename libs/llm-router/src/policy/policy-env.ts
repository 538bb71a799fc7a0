import { PolicyValidationError, type PolicyIssue } from './policy-validation.error.js';

type Env = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * `${VAR}` and `${VAR:-default}` in the policy's string values, from the
 * environment (`$${` is a literal `${`). Only strings are read, after the
 * file is parsed: a value can never change the document's structure, and
 * comments are never read. A reference to an unset variable without a
 * default is an error naming its path; every one is listed at once.
 */
export function interpolatePolicyEnv(document: unknown, env: Env, source: string): unknown {
  const expanded = expandPolicyEnv(document, env);
  if (expanded.issues.length > 0) throw new PolicyValidationError(expanded.issues, source);
  return expanded.document;
}

/** The same, the unset references returned as issues (left as written) so that the schema's can be listed with them. */
export function expandPolicyEnv(document: unknown, env: Env): { document: unknown; issues: PolicyIssue[] } {
  const issues: PolicyIssue[] = [];
  const visit = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') return value.includes('${') ? expand(value, path) : value;
    if (Array.isArray(value)) return value.map((v, i) => visit(v, `${path}[${i}]`));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, path === '' ? k : `${path}.${k}`)]));
    }
    return value;
  };
  const expand = (text: string, path: string): string =>
    text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (name === undefined) return '${';
      const set = env[name];
      if (set !== undefined && set !== '') return set;
      if (fallback !== undefined) return fallback;
      issues.push({ path: path || '(root)', message: `refers to \${${name}}, which is not set (give it a value, or a default: \${${name}:-value})` });
      return match;
    });
  return { document: visit(document, ''), issues };
}
