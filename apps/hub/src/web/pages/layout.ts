import { HOMELAB_VERSION } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { html, type Html } from './html';

export type PageId = 'overview' | 'actions' | 'history' | 'events' | 'node';

export interface LayoutInput {
  page: PageId;
  title: string;
  principal: Principal;
  body: Html;
}

const NAV: [PageId, string, string][] = [
  ['overview', '/', 'Fleet'],
  ['actions', '/actions', 'Actions'],
  ['history', '/history', 'History'],
  ['events', '/events', 'Events'],
];

/**
 * The page frame: navigation, "Copy for AI", who is signed in, and the
 * program's version in the footer. `<main>` is
 * what the script swaps when the stream says something changed, so every
 * page stays live without a reload.
 */
export function layout(input: LayoutInput): Html {
  const p = input.principal;
  const csrf = p.session?.csrf ?? '';
  const nav = NAV.map(([id, href, label]) => html`<a href="${href}"${id === input.page && html` aria-current="page"`}>${label}</a>`);
  const logout =
    p.via === 'session' &&
    html`<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button class="link">Sign out</button></form>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="csrf" content="${csrf}"><title>${input.title} · homelab</title>
<link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js" defer></script></head>
<body data-page="${input.page}" data-role="${p.role}">
<header><strong class="brand">homelab</strong><nav>${nav}</nav>
<span class="right"><button id="copy-ai" type="button">Copy for AI</button> <span id="live" class="muted" title="live updates">●</span>
<span class="muted">${p.name} (${p.role})</span> ${logout}</span></header>
<div id="toast" role="status" aria-live="polite"></div>
<main id="main">${input.body}</main>
<footer class="muted">homelab ${HOMELAB_VERSION}</footer>
</body></html>`;
}
