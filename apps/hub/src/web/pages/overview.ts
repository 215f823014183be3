import { findingSubject, type Summary, type World } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { pendingCard } from './action-view';
import { nodesTable, servicesTable, unmanagedOf, unmanagedTable } from './fleet-view';
import { html, table, tr, type Html } from './html';

export function overviewBody(s: Summary, world: World, p: Principal, now: Date, extra: { where: string; what: string }[] = []): Html {
  const unhealthy = s.services.filter((v) => v.status === 'unhealthy').length;
  const online = s.nodes.filter((n) => n.online).length;
  const waiting = s.actions.pending.filter((a) => a.state === 'pending');
  const unmanaged = s.nodes.flatMap((n) => (unmanagedOf(world, n.node) ?? []).map((c) => ({ node: n.node, c })));
  const notices = [
    ...s.configProblems.map((c) => tr([`${c.file} ${c.path}`, c.message])),
    ...s.findings.map((f) => tr([findingSubject(f), html`${f.message}${f.until && html` <span class="muted">until ${f.until}</span>`}`])),
    ...extra.map((n) => tr([n.where, n.what])),
  ];
  return html`<h1>Fleet</h1>
<div class="stats">
<div class="stat"><b>${online}/${s.nodes.length}</b>nodes online</div>
<div class="stat"><b id="unhealthy-count">${unhealthy}</b>unhealthy services</div>
<div class="stat"><b>${waiting.length}</b><a href="/actions">pending actions</a></div>
<div class="stat"><b>${s.actions.running.length}</b>running</div>
</div>
${waiting.length > 0 && html`<h2>Waiting for you</h2>${waiting.slice(0, 5).map((a) => pendingCard(a, p, now))}${waiting.length > 5 && html`<p><a href="/actions">all ${waiting.length} pending actions</a></p>`}`}
<h2>Nodes</h2>${nodesTable(s.nodes, s.services, now)}
<h2>Services</h2>${servicesTable(s.services, now)}
<h2>Unmanaged containers</h2>${unmanagedTable(unmanaged)}
${notices.length > 0 && html`<h2>Notices</h2>${table(['Where', 'What'], notices)}`}`;
}
