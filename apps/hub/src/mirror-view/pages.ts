import { HOMELAB_VERSION, type MirrorStatus, type Summary } from '@homelab/contracts';
import { nodesTable, servicesTable } from '../web/pages/fleet-view';
import { ago, badge, html, table, tr, type Html } from '../web/pages/html';

/**
 * The mirror's page frame (`homelab mirror --serve`, docs/ui-api.md "Mirror"):
 * the hub's stylesheet and script (for "Copy for AI"), no live stream — the
 * page reloads itself every 30 s instead (`data-live="off"`) — and on every
 * page the banner that says whose copy this is and how old.
 */
export function mirrorLayout(title: string, banner: Html | null, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="30"><title>${title} · homelab mirror</title>
<link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js" defer></script></head>
<body data-page="mirror" data-role="viewer" data-live="off">
<header><strong class="brand">homelab mirror</strong><nav><a href="/">Fleet</a></nav>
<span class="right"><button id="copy-ai" type="button">Copy for AI</button> <span class="muted">read-only</span></span></header>
<div id="toast" role="status" aria-live="polite"></div>
<main id="main">${banner}${body}</main>
<footer class="muted">homelab ${HOMELAB_VERSION} · <a href="/summary">/summary</a> · <a href="/summary?format=markdown">markdown</a></footer>
</body></html>`;
}

/** "Read-only copy of <hub>, copied 3 min ago", and when the hub stopped answering. */
export function mirrorBanner(status: MirrorStatus, now: Date): Html {
  const stale = !status.ok;
  return html`<p id="mirror-banner" class="${stale ? 'error' : 'card'}">${badge('read-only copy', stale ? 'bad' : 'muted')} Read-only copy of <strong>${status.hub}</strong>, copied
${ago(status.lastSuccess, now)}${stale && html`. The hub has not answered since then (last try ${ago(status.lastAttempt, now)}: ${status.error ?? 'failed'}); what follows may be out of date`}.
Decisions are taken on the hub.</p>`;
}

function pendingTable(s: Summary, now: Date): Html {
  return table(
    ['Action', 'Where', 'What', 'Proposed'],
    s.actions.pending.map((a) =>
      tr([html`${a.id} ${badge(a.state, 'warn')}`, a.service ? `${a.node}/${a.service}` : a.node, a.summary, ago(a.createdAt, now)]),
    ),
    'no pending actions',
  );
}

export function mirrorFleetBody(s: Summary, now: Date): Html {
  const online = s.nodes.filter((n) => n.online).length;
  const unhealthy = s.services.filter((v) => v.status === 'unhealthy').length;
  return html`<h1>Fleet</h1>
<div class="stats">
<div class="stat"><b>${online}/${s.nodes.length}</b>nodes online</div>
<div class="stat"><b id="unhealthy-count">${unhealthy}</b>unhealthy services</div>
<div class="stat"><b>${s.actions.pending.length}</b>pending or approved actions</div>
</div>
<h2>Nodes</h2>${nodesTable(s.nodes, s.services, now)}
<h2>Services</h2>${servicesTable(s.services, now)}
<h2>Waiting for a decision on the hub</h2>${pendingTable(s, now)}`;
}

/** One node of the copy: its row and its services; null when the copy does not know it. */
export function mirrorNodeBody(node: string, s: Summary, now: Date): Html | null {
  const n = s.nodes.find((x) => x.node === node);
  if (!n) return null;
  return html`<h1>Node ${node}</h1>${nodesTable([n], s.services, now)}
<h2>Services</h2>${servicesTable(
    s.services.filter((v) => v.node === node),
    now,
    1000,
  )}`;
}

/** Before the first good pass, or when the files do not parse: what is missing and how to get it. */
export function mirrorEmptyBody(problem: string): Html {
  return html`<h1>No copy yet</h1><p class="error">${problem}</p>
<p>This page shows what <code>homelab mirror --from &lt;hub&gt; --to &lt;dir&gt;</code> copied into its folder. It fills in after the first pass that reaches the hub.</p>`;
}
