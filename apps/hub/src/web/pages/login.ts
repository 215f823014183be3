import { html, type Html } from './html';

export function loginPage(opts: { next: string; error?: string }): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · homelab</title><link rel="stylesheet" href="/assets/app.css"></head>
<body class="login"><main>
<h1>homelab</h1>
${opts.error && html`<p class="error" role="alert">${opts.error}</p>`}
<form method="post" action="/login">
<input type="hidden" name="next" value="${opts.next}">
<label>User <input name="user" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<p class="muted">First start: the generated password is in <code>&lt;data root&gt;/auth/initial-credentials.json</code>.</p>
</main></body></html>`;
}
