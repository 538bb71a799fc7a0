import type { CompiledPolicy } from './compiled-policy.js';
import { describePolicy } from './describe-policy.js';

/** What changed in one section of the policy, by name. */
export interface SectionChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** What a new policy changes, section by section: what a reload's history entry says. */
export interface PolicyChanges {
  readonly classes: SectionChanges;
  readonly models: SectionChanges;
  readonly providers: SectionChanges;
  /** Other top-level settings that differ: tiers, defaultClass, circuit, budgets. */
  readonly settings: readonly string[];
}

const SECTIONS = ['classes', 'models', 'providers'] as const;

/** Compared on the effective policies (defaults filled in), so a default spelled out is no change. */
export function policyChanges(before: CompiledPolicy | undefined, after: CompiledPolicy): PolicyChanges {
  const a = before ? describePolicy(before) : {};
  const b = describePolicy(after);
  const section = (key: (typeof SECTIONS)[number]): SectionChanges => {
    const was = (a[key] ?? {}) as Record<string, unknown>;
    const now = b[key] as Record<string, unknown>;
    return {
      added: Object.keys(now).filter((n) => !(n in was)),
      removed: Object.keys(was).filter((n) => !(n in now)),
      changed: Object.keys(now).filter((n) => n in was && JSON.stringify(was[n]) !== JSON.stringify(now[n])),
    };
  };
  const settings = Object.keys(b).filter((k) => !(SECTIONS as readonly string[]).includes(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  // Tenant budgets show as names only in the description: their amounts are compared here.
  if (!settings.includes('budgets') && before && JSON.stringify(before.budgets) !== JSON.stringify(after.budgets)) settings.push('budgets');
  return { classes: section('classes'), models: section('models'), providers: section('providers'), settings };
}
