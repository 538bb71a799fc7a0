import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixturePolicy } from '../testing/policy.fixture.js';
import { CLASS_DEFAULTS } from './class-defaults.js';
import { compilePolicy } from './compile-policy.js';
import { describePolicy } from './describe-policy.js';
import { compilePolicyText, loadPolicyFile } from './load-policy-file.js';
import { PolicyValidationError } from './policy-validation.error.js';

function issuesOf(doc: unknown): string[] {
  try {
    compilePolicy(doc);
  } catch (err) {
    assert.ok(err instanceof PolicyValidationError);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the policy to be rejected');
}

describe('compilePolicy: validation names the offending path', () => {
  it('schema errors carry their path', () => {
    const doc = fixturePolicy();
    (doc.models['premium-a'] as { contextWindow: unknown }).contextWindow = 'big';
    (doc.classes['general'] as { criticality: unknown }).criticality = 'vital';
    const issues = issuesOf(doc);
    assert.ok(issues.some((i) => i.startsWith('models.premium-a.contextWindow:')), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('classes.general.criticality:')), issues.join('\n'));
  });

  it('unknown fields are rejected, not ignored', () => {
    const doc = fixturePolicy();
    (doc.classes['general'] as Record<string, unknown>)['retries'] = 3;
    assert.ok(issuesOf(doc).some((i) => i.startsWith('classes.general:') && /retries/.test(i)));
  });

  it('an anthropic model cannot have custom_tools; an openai one can', () => {
    const doc = fixturePolicy();
    doc.models['premium-b']!.capabilities = ['tools', 'custom_tools'];
    doc.models['premium-a']!.capabilities = ['tools', 'custom_tools'];
    const issues = issuesOf(doc);
    assert.ok(issues.some((i) => /^models\.premium-b\.capabilities: an anthropic model cannot have "custom_tools"/.test(i)), issues.join('\n'));
    assert.equal(issues.some((i) => i.startsWith('models.premium-a')), false);
  });

  it('cross references are checked: provider, tier, route models, floor tier, default class', () => {
    const doc = fixturePolicy({ defaultClass: 'nope' });
    doc.models['premium-a']!.provider = 'ghost';
    doc.models['standard-1']!.tier = 'gold';
    doc.classes['general']!.route = ['premium-b', 'missing-model'];
    doc.classes['support']!.qualityFloor = { tier: 'platinum' };
    const issues = issuesOf(doc);
    assert.ok(issues.some((i) => /^models\.premium-a\.provider: unknown provider "ghost"/.test(i)));
    assert.ok(issues.some((i) => /^models\.standard-1\.tier: unknown tier "gold"/.test(i)));
    assert.ok(issues.some((i) => /^classes\.general\.route\[1\]: unknown model "missing-model"/.test(i)));
    assert.ok(issues.some((i) => /^classes\.support\.qualityFloor\.tier: unknown tier "platinum"/.test(i)));
    assert.ok(issues.some((i) => /^defaultClass: unknown traffic class "nope"/.test(i)));
  });

  it('a model may appear once per route; backoff max must cover base', () => {
    const doc = fixturePolicy();
    doc.classes['general']!.route = ['premium-a', 'premium-a'];
    doc.classes['batch']!.backoff = { baseMs: 500, maxMs: 100, jitter: true };
    const issues = issuesOf(doc);
    assert.ok(issues.some((i) => i.startsWith('classes.general.route: a model may appear only once')));
    assert.ok(issues.some((i) => i.startsWith('classes.batch.backoff.maxMs')));
  });

  it('the error message lists every issue', () => {
    const doc = fixturePolicy();
    doc.models['premium-a']!.provider = 'ghost';
    assert.throws(() => compilePolicy(doc, 'policy file x.yaml'), /Invalid LLM routing policy file x\.yaml:\n {2}- models\.premium-a\.provider/);
  });
});

describe('compilePolicy: explicit defaults', () => {
  const policy = compilePolicy(fixturePolicy());

  it('every class gets its criticality defaults and a finite termination point', () => {
    for (const cls of policy.classes.values()) {
      const d = CLASS_DEFAULTS[cls.criticality];
      assert.equal(cls.retriesPerTarget, d.retriesPerTarget, cls.name);
      assert.ok(Number.isFinite(cls.deadlineMs) && cls.deadlineMs > 0);
      assert.ok(Number.isFinite(cls.maxAttempts) && cls.maxAttempts >= 1);
      assert.equal(cls.onExhausted, d.onExhausted);
    }
  });

  it('standard: one retry on the primary before switching', () => {
    assert.equal(policy.classes.get('general')!.retriesPerTarget, 1);
    assert.equal(policy.classes.get('general')!.fallback, true);
  });

  it('critical: switches at once, to equivalent quality only', () => {
    const support = policy.classes.get('support')!;
    assert.equal(support.retriesPerTarget, 0);
    assert.equal(support.equivalentQualityOnly, true);
  });

  it('nonessential: premium options first, cheaper ones after (stable within a tier)', () => {
    assert.deepEqual(policy.classes.get('titles')!.route.map((m) => m.name), ['premium-a', 'standard-1', 'economy-1']);
  });

  it('experimentation: no retry, no fallback, one attempt', () => {
    const exp = policy.classes.get('exp')!;
    assert.equal(exp.retriesPerTarget, 0);
    assert.equal(exp.maxAttempts, 1);
    assert.deepEqual(exp.route.map((m) => m.name), ['frontier-1']);
  });

  it('explicit values win over defaults', () => {
    const doc = fixturePolicy();
    doc.classes['support'] = { criticality: 'critical', route: ['premium-a', 'premium-b'], retriesPerTarget: 2, deadlineMs: 5_000 };
    const support = compilePolicy(doc).classes.get('support')!;
    assert.equal(support.retriesPerTarget, 2);
    assert.equal(support.deadlineMs, 5_000);
    assert.ok(support.attemptTimeoutMs <= 5_000, 'an attempt never outlives the deadline');
  });

  it('provider URLs are taken apart once', () => {
    const doc = fixturePolicy();
    doc.providers['oa'] = { kind: 'openai', baseUrl: 'https://api.example.com/v1/' };
    const oa = compilePolicy(doc).providers.get('oa')!;
    assert.deepEqual([oa.protocol, oa.hostname, oa.port, oa.basePath], ['https:', 'api.example.com', 443, '/v1']);
  });

  it('describePolicy prints the effective policy with defaults filled in', () => {
    const described = describePolicy(policy) as { classes: Record<string, Record<string, unknown>> };
    assert.equal(described.classes['general']!['retriesPerTarget'], 1);
    assert.deepEqual(described.classes['titles']!['route'], ['premium-a', 'standard-1', 'economy-1']);
    assert.equal(described.classes['general']!['maxCostPerRequestUsd'], null);
    assert.doesNotThrow(() => JSON.stringify(described));
  });
});

describe('loadPolicyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-'));

  it('reads YAML and JSON', () => {
    writeFileSync(join(dir, 'p.yaml'), 'tiers: [a, b]\n');
    writeFileSync(join(dir, 'p.json'), '{"tiers":["a"]}');
    assert.deepEqual(loadPolicyFile(join(dir, 'p.yaml')), { tiers: ['a', 'b'] });
    assert.deepEqual(loadPolicyFile(join(dir, 'p.json')), { tiers: ['a'] });
  });

  it('a missing or malformed file is a PolicyValidationError naming the file', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'tiers: [a, b\n');
    assert.throws(() => loadPolicyFile(join(dir, 'none.yaml')), (e: unknown) => e instanceof PolicyValidationError && /cannot read/.test(e.message));
    assert.throws(() => loadPolicyFile(join(dir, 'bad.yaml')), (e: unknown) => e instanceof PolicyValidationError && /cannot parse .*bad\.yaml/.test(e.message));
  });
});

describe('compilePolicy: the cheaper route', () => {
  it('defaults to the route cheapest first, and keeps a no-fallback class to one target', () => {
    const doc = fixturePolicy();
    doc.classes['titles'] = { criticality: 'nonessential', route: ['premium-a', 'economy-1', 'standard-1'] };
    doc.classes['solo'] = { criticality: 'standard', route: ['premium-a', 'economy-1'], fallback: false };
    const policy = compilePolicy(doc);
    assert.deepEqual(policy.classes.get('titles')!.downgradeRoute.map((m) => m.name), ['economy-1', 'standard-1', 'premium-a']);
    assert.deepEqual(policy.classes.get('solo')!.downgradeRoute.map((m) => m.name), ['economy-1']);
  });
});

describe('compilePolicyText: one pass', () => {
  it('environment, schema and reference errors are listed together', () => {
    const text = [
      'providers:',
      '  p: { kind: openai, baseUrl: "${POLICY_SPEC_UNSET_URL}" }',
      'models:',
      '  m: { provider: ghost, upstreamModel: m, tier: premium, contextWindow: big, price: { inputPerMTok: 1, outputPerMTok: 1 } }',
      'classes:',
      '  c: { criticality: standard, route: [m, nowhere] }',
    ].join('\n');
    assert.throws(
      () => compilePolicyText(text, 'yaml', 'policy file p.yaml', {}),
      (err: unknown) => {
        assert.ok(err instanceof PolicyValidationError);
        const paths = err.issues.map((i) => i.path);
        for (const p of ['providers.p.baseUrl', 'models.m.contextWindow', 'models.m.provider', 'classes.c.route[1]']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
        assert.equal(err.message.match(/Invalid LLM routing/g)?.length, 1);
        return true;
      },
    );
  });
  it('the content hash ignores key order and spelled-out defaults', () => {
    const a = compilePolicy(fixturePolicy());
    const doc = fixturePolicy();
    const reordered = { classes: doc.classes, models: doc.models, providers: doc.providers, tiers: doc.tiers, defaultClass: doc.defaultClass, circuit: { failureThreshold: 5 } };
    assert.equal(compilePolicy(reordered).hash, a.hash);
    doc.classes['general']!.route = ['premium-b', 'premium-a'];
    assert.notEqual(compilePolicy(doc).hash, a.hash);
  });
});
