/**
 * The web console (/console) in headless Chromium against a real gateway
 * (SQLite file, the simulator upstream): the login with the admin key and the
 * session cookie; nothing readable without it; the budget bar and tier after
 * known traffic; a forced fallback found in the requests table, its story
 * with both attempts; a circuit opened by the simulator shown open; a key
 * created in the console that works on /v1 and is refused once revoked there;
 * outside text shown as text. Each page's screenshot goes to test-results/console/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_KEY, call, chat, createKey, forEachStore, setBudget, simFault, sqliteGateway, startGw, startSim, testPolicy, until, type Gw, type SimulatorHandle, type SuiteStore } from './gateway-support/harness.js';
import { batchLine, uploadBatchFile, waitForBatch } from './support/batches.js';
import { launchOrSkip, SCREENSHOTS } from './support/browser.js';

/** The functions given to waitForFunction run in the page, where there is a document (this project compiles without the DOM types). */
declare const document: any;

describe('the web console', () => {
  let browser: Browser | undefined;
  let skip: string | undefined;
  let env: { sim: SimulatorHandle; gw: Gw; close(): Promise<void> };
  let context: BrowserContext;
  let page: Page;
  const tenant = `acme-${process.pid}`;

  before(async () => {
    const launched = await launchOrSkip();
    if ('skip' in launched) {
      skip = launched.skip;
      return;
    }
    browser = launched.browser;
    env = await sqliteGateway();
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await env?.close();
  });

  const url = (path: string) => `${env.gw.url}${path}`;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  /** The session cookie the browser holds, as a Cookie header. */
  const cookieHeader = async () => (await context.cookies(env.gw.url)).map((c) => `${c.name}=${c.value}`).join('; ');

  test('without a session nothing is readable: pages go to the login page, files and the admin API answer 401', async (t) => {
    if (skip) return t.skip(skip);
    const html = await fetch(url('/console'), { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(html.status, 303);
    assert.equal(html.headers.get('location'), '/console/login');
    for (const path of ['/console/assets/main.js', '/console/assets/console.css', '/console', '/console/nothing-here']) {
      const res = await call(env.gw.url, path);
      assert.equal(res.status, 401, path);
      assert.equal(res.json.error.code, 'console_login_required', path);
      assert.equal(res.json.error.type, 'invalid_request_error');
    }
    const forged = await call(env.gw.url, '/admin/keys', { headers: { cookie: `llmr_console=${'A'.repeat(43)}` } });
    assert.equal(forged.status, 401);
    assert.equal(forged.json.error.code, 'invalid_admin_key');

    await page.goto(url('/console'));
    assert.equal(new URL(page.url()).pathname, '/console/login');
    await page.fill('#adminKey', 'not-the-admin-key-at-all');
    await page.click('button[type=submit]');
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /not the admin key/);
    assert.equal((await context.cookies(env.gw.url)).length, 0, 'a wrong key opens no session');
    await shot('login');
  });

  test('the admin key opens a session: an HttpOnly, SameSite=Strict cookie; a strict CSP on every page', async (t) => {
    if (skip) return t.skip(skip);
    await page.goto(url('/console/login'));
    await page.fill('#adminKey', ADMIN_KEY);
    await Promise.all([page.waitForURL(/\/console$/), page.click('button[type=submit]')]);
    await page.locator('h1', { hasText: 'Budgets' }).waitFor();
    const [cookie] = await context.cookies(env.gw.url);
    assert.equal(cookie?.name, 'llmr_console');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(cookie?.secure, false, 'plain http on loopback: not Secure');
    assert.match(cookie!.value, /^[A-Za-z0-9_-]{43}$/);

    const shell = await fetch(url('/console'), { headers: { cookie: await cookieHeader() } });
    assert.equal(shell.status, 200);
    const csp = shell.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(shell.headers.get('cache-control'), 'no-store');

    // Behind an https proxy the cookie is Secure.
    const overHttps = await fetch(url('/console/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: new URLSearchParams({ adminKey: ADMIN_KEY }),
      redirect: 'manual',
    });
    assert.equal(overHttps.status, 303);
    assert.match(overHttps.headers.get('set-cookie')!, /; HttpOnly; SameSite=Strict; Secure$/);
  });

  test('the session stands for the admin key on the admin API, but changes nothing without its CSRF token', async (t) => {
    if (skip) return t.skip(skip);
    const cookie = await cookieHeader();
    const list = await call(env.gw.url, '/admin/keys', { headers: { cookie } });
    assert.equal(list.status, 200);
    const refused = await call(env.gw.url, '/admin/keys', { headers: { cookie }, body: { tenant: 'csrf' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.code, 'invalid_csrf_token');
    const wrong = await call(env.gw.url, '/admin/keys', { headers: { cookie, 'x-csrf-token': 'guessed' }, body: { tenant: 'csrf' } });
    assert.equal(wrong.status, 403);
    assert.equal((await call(env.gw.url, '/admin/keys?tenant=csrf', { key: ADMIN_KEY })).json.data.length, 0, 'no key was created');
  });

  test("the budget page shows the tenant's bar, marked at its thresholds, and its tier after known traffic", async (t) => {
    if (skip) return t.skip(skip);
    const key = (await createKey(env.gw, { tenant })).key;
    await setBudget(env.gw, tenant, { budgetUsd: 100, dailyCapUsd: 50 });
    for (let i = 0; i < 3; i++) assert.equal((await chat(env.gw, key, `budgeted call ${i}`)).status, 200);
    const spent = (await call(env.gw.url, `/admin/tenants/${tenant}/budget`, { key: ADMIN_KEY })).json.spentUsd as number;
    assert.ok(spent > 0);
    // The same spend against a budget it fills to 75 %: the notice tier (70-80 %).
    await setBudget(env.gw, tenant, { budgetUsd: spent / 0.75, dailyCapUsd: 50 });

    await page.goto(url('/console#/budgets'));
    const card = page.locator(`section.budget[data-tenant="${tenant}"]`);
    await card.waitFor();
    await page.waitForFunction((t) => document.querySelector(`section.budget[data-tenant="${t}"] .badge`)?.textContent === 'notice', tenant);
    const fill = Number(await card.locator('svg.budget-bar rect.fill').getAttribute('width'));
    assert.ok(Math.abs(fill - 450) < 1, `the bar is filled to 75 % of 600: ${fill}`);
    assert.ok(await card.locator('svg.budget-bar rect.fill.tier-notice').count(), 'coloured by its tier');
    const marks = await card.locator('svg.budget-bar line.mark').evaluateAll((lines) => lines.map((l) => Number(l.getAttribute('x1'))));
    assert.deepEqual(marks, [420, 480, 570, 600], 'marks at 70, 80, 95 and 100 %');
    const text = await card.innerText();
    assert.match(text, /75\.0 %/);
    assert.match(text, /Projected at period end/);
    assert.match(text, /of the \$50\.00 daily cap/);
    await shot('budgets');
  });

  test('a forced fallback is found in the requests table; Enter on its row opens its story with both attempts and their categories', async (t) => {
    if (skip) return t.skip(skip);
    const key = (await createKey(env.gw, { tenant: `${tenant}-fb` })).key;
    const res = await chat(env.gw, key, `fall back ${simFault('premium-a', { error: 'overloaded' })}`);
    assert.equal(res.headers.get('x-llm-fallback'), 'true');
    const requestId = res.headers.get('x-llm-request-id')!;
    const record = (await call(env.gw.url, `/admin/records/${requestId}`, { key: ADMIN_KEY })).json;
    assert.equal(record.attempts.length, 2);

    await page.goto(url('/console#/requests'));
    await page.fill('#f-tenant', `${tenant}-fb`);
    await page.selectOption('#f-fallback', 'true');
    await page.press('#f-tenant', 'Enter');
    const row = page.locator(`#records tr[data-request-id="${requestId}"]`);
    await row.waitFor();
    // The unfiltered page may still be shown (the row is in it too): wait for the filtered one, up to the usual wait.
    await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length === 1, undefined, { timeout: 5_000 }).catch(() => undefined);
    assert.equal(await page.locator('#records tbody tr').count(), 1, 'the filters leave this one call');
    await row.focus();
    await page.keyboard.press('Enter');
    const story = page.locator(`#story article[data-request-id="${requestId}"]`);
    await story.waitFor();
    const attempts = await story.locator('table.attempts tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(attempts.length, 2);
    assert.deepEqual(
      attempts.map((cells) => [cells[1], cells[3], cells[4]]),
      record.attempts.map((a: any) => [a.model, a.outcome, a.category ?? '–']),
    );
    assert.equal(attempts[0]![1], 'premium-a');
    assert.notEqual(attempts[0]![4], '–', 'the failed attempt has its category');
    assert.match(attempts[0]![9]!, new RegExp(`switched to premium-b after ${record.attempts[0].category}`));
    assert.equal(attempts[1]![9], 'served');
    assert.match(await story.innerText(), /premium-a\s*\n?\s*premium-b/, 'the planned route');
    await shot('request-story');
    // Escape closes the story and gives the keyboard back to the row.
    await page.keyboard.press('Escape');
    await story.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-request-id')), requestId);
  });

  test("a refused request's story shows the plan's exclusions and that no provider was called", async (t) => {
    if (skip) return t.skip(skip);
    const key = (await createKey(env.gw, { tenant: `${tenant}-floor` })).key;
    const refused = await chat(env.gw, key, 'below the floor', {}, { 'x-traffic-class': 'floored' });
    assert.equal(refused.status, 422);
    await page.goto(url('/console#/requests'));
    await page.fill('#f-tenant', `${tenant}-floor`);
    await page.fill('#f-category', 'quality_floor_unmet');
    // The page is still the one of the test before (the same #/requests): its fallback filter is cleared.
    await page.selectOption('#f-fallback', '');
    await page.press('#f-category', 'Enter');
    await page.locator('#records tbody tr').first().waitFor();
    assert.equal(await page.locator('#records tbody tr').count(), 1);
    await page.locator('#records tbody tr').first().click();
    const story = page.locator('#story article');
    await story.waitFor();
    const text = await story.innerText();
    assert.match(text, /standard-1 left out: /);
    assert.match(text, /No attempt: refused before any provider was called/);
    assert.match(text, /quality_floor_unmet/);
  });

  test('outside text (key names, session ids) is shown as text, never as markup', async (t) => {
    if (skip) return t.skip(skip);
    const markup = '<img src=x id=injected onerror="document.title=1">';
    const key = await createKey(env.gw, { tenant: `${tenant}-xss`, name: markup });
    assert.equal((await chat(env.gw, key.key, 'markup in the session', {}, { 'x-session-id': markup })).status, 200);
    await page.goto(url('/console#/keys'));
    const row = page.locator(`#keys tr[data-key-id="${key.id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /<img src=x id=injected/);
    await page.goto(url('/console#/requests'));
    await page.fill('#f-tenant', `${tenant}-xss`);
    await page.press('#f-tenant', 'Enter');
    await page.locator('#records tbody tr').first().click();
    await page.locator('#story article').waitFor();
    const records = (await call(env.gw.url, `/admin/records?tenant=${tenant}-xss`, { key: ADMIN_KEY })).json.data;
    if (records[0].session !== null) assert.match(await page.locator('#story').innerText(), /<img src=x id=injected/);
    assert.equal(await page.locator('#injected').count(), 0, 'no element was made from the text');
  });

  test('a circuit opened by the simulator shows as open on the routing-health page within seconds', async (t) => {
    if (skip) return t.skip(skip);
    await page.goto(url('/console#/health'));
    const cell = page.locator('#circuits tr', { hasText: 'standard-1' }).locator('.badge');
    await cell.waitFor();
    assert.equal(await cell.textContent(), 'closed');
    // A 401 from the provider: misconfigured, the circuit opens at once.
    env.sim.addFaults({ match: { model: 'up-standard-1' }, fault: { status: 401 } });
    const key = (await createKey(env.gw, { tenant: `${tenant}-cheap`, allowedClasses: ['cheap'] })).key;
    const res = await chat(env.gw, key, 'cheap call');
    assert.equal(res.status, 200, res.text);
    // The nonessential class tries its better tier first: standard-1 fails, economy-1 serves.
    assert.equal(res.headers.get('x-llm-model'), 'economy-1');
    await page.waitForFunction(() => [...document.querySelectorAll('#circuits tr')].some((r: any) => r.textContent?.includes('standard-1') && r.querySelector('.badge')?.textContent === 'open'), undefined, { timeout: 10_000 });
    await page.locator('.chart').first().waitFor();
    await shot('health');
    env.sim.clearFaults();
  });

  test('spend and work-in-progress pages render from the admin API', async (t) => {
    if (skip) return t.skip(skip);
    await page.goto(url('/console#/spend'));
    await page.locator('figure.chart figcaption', { hasText: 'Spend by API key' }).waitFor();
    assert.ok((await page.locator('figure.chart svg.plot').count()) >= 1, 'at least one chart has data');
    assert.match(await page.locator('.totals').innerText(), /\$[0-9.]+ over \d+ calls/);
    await shot('spend');
    await page.goto(url('/console#/work'));
    await page.locator('[data-listing="/admin/batches"] .empty').waitFor();
    assert.match(await page.locator('main').innerText(), /None yet/);
  });

  test('the work page shows a deferred call (every target failing on an internal-automation class), a batch with its progress and a paused one with its reason and resume time', async (t) => {
    if (skip) return t.skip(skip);
    // An internal-automation class, added by the admin API: it defers when its route is exhausted, tried again a minute later.
    const policy = testPolicy(env.sim.url);
    const automation = { criticality: 'internal_automation', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, deferBackoff: { baseMs: 60_000, maxMs: 60_000, jitter: false } };
    const put = await call(env.gw.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, body: { ...policy, classes: { ...policy.classes, automation } } });
    assert.equal(put.status, 200, put.text);
    const workTenant = `${tenant}-work`;
    const key = (await createKey(env.gw, { tenant: workTenant, allowedClasses: ['general', 'automation', 'batch-summaries'], defaultClass: 'general' })).key;
    env.sim.addFaults({ fault: { error: 'server_error' } });
    const deferred = await chat(env.gw, key, 'nightly report', {}, { 'x-traffic-class': 'automation' });
    env.sim.clearFaults();
    assert.equal(deferred.status, 202, deferred.text);

    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const file = await uploadBatchFile(client, [batchLine('a', 'first'), batchLine('b', 'second'), batchLine('c', 'third')]);
    const batch = await waitForBatch(client, (await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
    assert.equal(batch.status, 'completed');
    // Another tenant's batch, paused before its first item: no item fits its budget.
    const pausedTenant = `${tenant}-paused`;
    await setBudget(env.gw, pausedTenant, { budgetUsd: 0.000001 });
    const pausedKey = (await createKey(env.gw, { tenant: pausedTenant, allowedClasses: ['general', 'batch-summaries'], defaultClass: 'general' })).key;
    const pausedClient = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: pausedKey, maxRetries: 0 });
    const pausedFile = await uploadBatchFile(pausedClient, [batchLine('a', 'first'), batchLine('b', 'second')]);
    const pausedCreated = await pausedClient.batches.create({ input_file_id: pausedFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const paused = await waitForBatch(pausedClient, pausedCreated.id, (b) => (b as any).llm_router.paused === true, 20_000);

    await page.goto(url('/console#/work'));
    const deferredRow = page.locator(`#deferred tr[data-id="${deferred.json.id}"]`);
    const batchRow = page.locator(`#batches tr[data-id="${batch.id}"]`);
    await deferredRow.waitFor({ timeout: 10_000 });
    await batchRow.waitFor({ timeout: 10_000 });
    const deferredCells = await deferredRow.locator('td').allInnerTexts();
    assert.deepEqual(deferredCells.slice(0, 6), [deferred.json.id, workTenant, 'automation', 'pending', 'route_exhausted', '1']);
    assert.notEqual(deferredCells[6], '–', 'the next attempt time is shown');
    assert.match(deferredCells[7]!, /\S/, 'the last error is shown');
    const batchCells = await batchRow.locator('td').allInnerTexts();
    assert.deepEqual(batchCells.slice(0, 5), [batch.id, workTenant, 'completed', '3 / 3', '–']);
    const pausedRow = page.locator(`#batches tr[data-id="${paused.id}"]`);
    await pausedRow.waitFor({ timeout: 10_000 });
    const pausedCells = await pausedRow.locator('td').allInnerTexts();
    assert.deepEqual(pausedCells.slice(0, 5), [paused.id, pausedTenant, 'in_progress', '0 / 2', (paused as any).llm_router.pause.reason]);
    assert.match(pausedCells[5]!, /at the latest \(.*budget is raised\)/, 'when it resumes');
    await shot('work');
  });

  test('the requests table shows one page at a time and pages on by cursor', async (t) => {
    if (skip) return t.skip(skip);
    const pagedTenant = `${tenant}-paged`;
    const key = (await createKey(env.gw, { tenant: pagedTenant })).key;
    for (let i = 0; i < 30; i++) assert.equal((await chat(env.gw, key, `paged ${i}`)).status, 200);
    await page.goto(url('/console#/requests'));
    await page.fill('#f-tenant', pagedTenant);
    await page.selectOption('#f-limit', '25');
    await page.press('#f-tenant', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length === 25);
    const firstPage = await page.locator('#records tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-record-id')));
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length === 5);
    const secondPage = await page.locator('#records tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-record-id')));
    assert.equal(new Set([...firstPage, ...secondPage]).size, 30, 'every record once, across the two pages');
    assert.ok(await page.getByRole('button', { name: 'Older →' }).isDisabled());
    await shot('requests');
  });

  test('the first page of requests follows new calls live, without a reload', async (t) => {
    if (skip) return t.skip(skip);
    const liveTenant = `${tenant}-live`;
    const key = (await createKey(env.gw, { tenant: liveTenant })).key;
    await page.goto(url('/console#/requests'));
    await page.fill('#f-tenant', liveTenant);
    await page.press('#f-tenant', 'Enter');
    await page.locator('#results .empty').waitFor();
    const res = await chat(env.gw, key, 'a call made while the page is open');
    const requestId = res.headers.get('x-llm-request-id')!;
    await page.locator(`#records tr[data-request-id="${requestId}"]`).waitFor({ timeout: 10_000 });
  });

  test('a key created in the console works on /v1, and is refused once revoked there', async (t) => {
    if (skip) return t.skip(skip);
    await page.goto(url('/console#/keys'));
    await page.fill('#k-tenant', `${tenant}-console`);
    await page.fill('#k-name', 'made in the console');
    await page.click('form[aria-label="Create an API key"] button[type=submit]');
    const secretBox = page.locator('#new-secret');
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    assert.match(secret, /^llmr_[a-z2-7]{12}_/);
    const id = secret.slice(5, 17);
    await shot('keys');

    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: secret, maxRetries: 0 });
    const ok = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello from a console key' }] });
    assert.match(ok.choices[0]!.message.content!, /hello from a console key/);

    const revoke = page.locator(`#keys tr[data-key-id="${id}"] button.danger`);
    await revoke.click();
    assert.match((await revoke.textContent())!, /Confirm/, 'one click only arms the button');
    await revoke.click();
    await page.waitForFunction((k) => document.querySelector(`#keys tr[data-key-id="${k}"] .badge`)?.textContent === 'revoked', id);
    await assert.rejects(client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'after revoking' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.equal(err.status, 401);
      return true;
    });
  });

  test('logging out ends the session: its cookie opens nothing any more', async (t) => {
    if (skip) return t.skip(skip);
    const cookie = await cookieHeader();
    await page.goto(url('/console#/budgets'));
    await Promise.all([page.waitForURL(/\/console\/login$/), page.getByRole('button', { name: 'Log out' }).click()]);
    assert.equal((await call(env.gw.url, '/admin/keys', { headers: { cookie } })).status, 401);
    const res = await fetch(url('/console'), { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
    assert.equal(res.status, 303);
  });
});

describe('the console without an admin key configured', () => {
  test('stays closed: the login page says so and no key opens it', async () => {
    const env = await sqliteGateway({ adminKey: undefined });
    try {
      const page = await call(env.gw.url, '/console/login');
      assert.equal(page.status, 200);
      assert.match(page.text, /The console is disabled: set LLM_ADMIN_KEY/);
      const login = await fetch(`${env.gw.url}/console/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'adminKey=anything-at-all-here', redirect: 'manual' });
      assert.equal(login.status, 401);
      assert.equal(login.headers.get('set-cookie'), null);
      assert.equal((await call(env.gw.url, '/console/assets/main.js')).status, 401);
    } finally {
      await env.close();
    }
  });
});

/** The session cookie a login with the admin key sets, as a Cookie header. */
async function logIn(gw: { url: string }): Promise<string> {
  const res = await fetch(`${gw.url}/console/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ adminKey: ADMIN_KEY }), redirect: 'manual' });
  assert.equal(res.status, 303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

forEachStore((name: string, storeFor: () => Promise<SuiteStore>) => {
  describe(`console sessions in the store (${name})`, () => {
    test('a session opened on one gateway works on another on the same store and after a restart; a logout ends it on both', async (t) => {
      const store = await storeFor();
      if ('skip' in store) return t.skip(store.skip);
      const sim = await startSim();
      const a = await startGw(sim, { store: store.store });
      let b = await startGw(sim, { store: store.store });
      try {
        const cookie = await logIn(a);
        assert.equal((await call(b.url, '/admin/keys', { headers: { cookie } })).status, 200, 'opened on a, good on b');
        await b.close();
        b = await startGw(sim, { store: store.store });
        assert.equal((await call(b.url, '/admin/circuits', { headers: { cookie } })).status, 200, 'and on b once restarted');

        const shell = await fetch(`${a.url}/console`, { headers: { cookie } });
        const csrf = /name="csrf" value="([^"]+)"/.exec(await shell.text())![1]!;
        const out = await fetch(`${a.url}/console/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf }), redirect: 'manual' });
        assert.equal(out.status, 303);
        assert.equal((await call(a.url, '/admin/keys', { headers: { cookie } })).status, 401, 'closed at once where it was closed');
        await until(async () => (await call(b.url, '/admin/keys', { headers: { cookie } })).status === 401, 'the logout to reach the other gateway', 10_000);
      } finally {
        await b.close();
        await a.close();
        await sim.close();
        await store.cleanup();
      }
    });
  });
});
