/**
 * The console's two server-rendered documents: the shell the browser code
 * fills (./console-assets.ts serves that code) and the login form. No data
 * goes into them but the CSRF token and fixed messages, escaped all the same;
 * no inline script or style: the Content-Security-Policy forbids both.
 */

/** The pages of the console, in navigation order: hash route and label. */
export const CONSOLE_PAGES = [
  ['budgets', 'Budgets'],
  ['health', 'Routing health'],
  ['spend', 'Spend'],
  ['requests', 'Requests'],
  ['work', 'Work in progress'],
  ['keys', 'Keys'],
] as const;

export function shellPage(csrfToken: string): string {
  const nav = CONSOLE_PAGES.map(([route, label]) => `<a href="#/${route}" data-route="${route}">${label}</a>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<title>llm-router console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script type="module" src="/console/assets/main.js"></script>
</head>
<body>
<a class="skip" href="#page">Skip to content</a>
<header>
<span class="brand">llm-router</span>
<nav aria-label="Console pages">${nav}</nav>
<form method="post" action="/console/logout"><input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}"><button type="submit">Log out</button></form>
</header>
<main id="page" tabindex="-1" aria-live="polite"><p class="muted">Loading…</p></main>
</body>
</html>
`;
}

export function loginPage(message: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · llm-router console</title>
<link rel="stylesheet" href="/console/login.css">
</head>
<body class="login">
<main>
<h1>llm-router console</h1>
<form method="post" action="/console/login">
<label for="adminKey">Admin key (<code>LLM_ADMIN_KEY</code>)</label>
<input id="adminKey" name="adminKey" type="password" autocomplete="current-password" required autofocus>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
