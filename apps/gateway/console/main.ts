/**
 * The console shell: hash routes (#/budgets, #/requests …) to pages, each
 * refreshed by polling while it is shown and the tab is visible. Polling, not
 * server-sent events: every page reads the admin API as it is (one owner of
 * each figure), and a few requests every few seconds cost the gateway less
 * than a stream per open tab would hold.
 */
import { el, replace } from './dom.js';
import type { MountedPage, PageFactory } from './page.js';
import { budgetsPage } from './budgets-page.js';
import { healthPage } from './health-page.js';
import { keysPage } from './keys-page.js';
import { requestsPage } from './requests-page.js';
import { spendPage } from './spend-page.js';
import { workPage } from './work-page.js';

const PAGES: Record<string, PageFactory> = {
  budgets: budgetsPage,
  health: healthPage,
  spend: spendPage,
  requests: requestsPage,
  work: workPage,
  keys: keysPage,
};

const main = document.getElementById('page')!;
let generation = 0;

function route(): string {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0]!;
  return name in PAGES ? name : 'budgets';
}

function show(): void {
  const name = route();
  const mine = ++generation;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('data-route') === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const status = el('div', { class: 'status', role: 'status' });
  const body = el('div');
  replace(main, status, body);
  const page: MountedPage = PAGES[name]!(body);
  document.title = `${main.querySelector('h1')?.textContent ?? name} · llm-router console`;
  // Keyboard and screen-reader users land on the page's heading, not back at the top of the nav.
  (main.querySelector('h1') as HTMLElement | null)?.focus();
  const tick = async () => {
    if (mine !== generation) return;
    if (document.hidden) return void document.addEventListener('visibilitychange', tick, { once: true });
    try {
      await page.refresh();
      replace(status);
      status.classList.remove('error');
    } catch (err) {
      status.classList.add('error');
      replace(status, `Could not refresh: ${(err as Error).message}. Retrying…`);
    }
    if (mine === generation) setTimeout(tick, page.everyMs);
  };
  void tick();
}

window.addEventListener('hashchange', show);
show();
