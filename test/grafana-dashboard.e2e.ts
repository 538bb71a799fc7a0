/**
 * The Grafana dashboard in the repo (deploy/grafana/llm-router.json) queries
 * only what the gateway's /metrics exports: after known traffic (a call, a
 * fallback, a stream, a budgeted tenant, a quality-floor refusal, a bad
 * key), every metric name in every panel's query (and the class variable's)
 * is a series /metrics serves, and every label a query groups by or matches
 * on is a label of that metric. Real gateway, real Prometheus text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { call, chat, createKey, setBudget, simFault, sqliteGateway } from './gateway-support/harness.js';

const DASHBOARD = new URL('../../deploy/grafana/llm-router.json', import.meta.url).pathname;

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr: string; refId: string }[];
  gridPos: { h: number; w: number; x: number; y: number };
}

/** Sample names of a Prometheus text exposition, each with the label names its samples carry. */
function exposition(text: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = series.get(m[1]!) ?? new Set<string>();
    for (const [, name] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(name!);
    series.set(m[1]!, labels);
  }
  return series;
}

/** The metric names an expression reads, and the labels it groups by or matches on per metric (selectors) or across it (`by`). */
function queried(expr: string): { metrics: string[]; matchers: [string, string][]; by: string[] } {
  const metrics = [...new Set([...expr.matchAll(/\b(llm_gateway_[a-z0-9_]+)\b/g)].map((m) => m[1]!))];
  const matchers: [string, string][] = [];
  for (const [, metric, body] of expr.matchAll(/\b(llm_gateway_[a-z0-9_]+)\{([^}]*)\}/g)) {
    for (const [, label] of body!.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) matchers.push([metric!, label!]);
  }
  const by = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()));
  return { metrics, matchers, by };
}

test('every metric and label the Grafana dashboard queries is one /metrics exports', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; query?: unknown }[] } };
  assert.equal(dashboard.uid, 'llm-router-gateway');
  const { gw, close } = await sqliteGateway();
  try {
    const key = (await createKey(gw, { tenant: 'dash' })).key;
    await setBudget(gw, 'dash', { budgetUsd: 5 });
    assert.equal((await chat(gw, key, 'plain')).status, 200);
    assert.equal((await chat(gw, key, `fallback ${simFault('premium-a', { error: 'overloaded' })}`)).headers.get('x-llm-fallback'), 'true');
    assert.equal((await chat(gw, key, 'stream', { stream: true })).status, 200);
    assert.equal((await chat(gw, key, 'floored', {}, { 'x-traffic-class': 'floored' })).status, 422);
    assert.equal((await chat(gw, 'llmr_not_a_key', 'nope')).status, 401);
    const res = await call(gw.url, '/metrics');
    assert.equal(res.status, 200);
    const series = exposition(res.text);

    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 15, `${panels.length} panels`);
    const exprs: [string, string][] = panels.flatMap((p) => {
      assert.ok(p.targets && p.targets.length > 0, `panel "${p.title}" has queries`);
      assert.equal(p.datasource?.uid, '${datasource}', `panel "${p.title}" uses the datasource variable`);
      return p.targets.map((t) => [p.title, t.expr] as [string, string]);
    });
    const variable = dashboard.templating.list.find((v) => v.name === 'class')!;
    exprs.push(['$class', JSON.stringify(variable.query)]);

    const problems: string[] = [];
    for (const [title, expr] of exprs) {
      const { metrics, matchers, by } = queried(expr);
      if (metrics.length === 0) problems.push(`${title}: no gateway metric in ${expr}`);
      for (const metric of metrics) if (!series.has(metric)) problems.push(`${title}: ${metric} is not exported`);
      for (const [metric, label] of matchers) if (series.has(metric) && !series.get(metric)!.has(label)) problems.push(`${title}: ${metric} has no label "${label}"`);
      for (const label of by) {
        if (!metrics.some((m) => series.get(m)?.has(label))) problems.push(`${title}: no metric of ${expr} has the label "${label}" it groups by`);
      }
    }
    assert.deepEqual(problems, []);
    // What the issue asks the dashboard to show is all there.
    const all = exprs.map(([, e]) => e).join('\n');
    for (const needed of ['llm_gateway_fallbacks_total', 'llm_gateway_attempts_total', 'llm_gateway_refusals_total', 'llm_gateway_request_duration_seconds_bucket', 'llm_gateway_spend_usd_total', 'llm_gateway_budget_tier_requests_total', 'llm_gateway_circuit_open']) {
      assert.ok(all.includes(needed), needed);
    }
  } finally {
    await close();
  }
});
