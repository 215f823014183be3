import { findingSubject, type Summary, type World } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { pendingCard } from './action-view';
import { nodesTable, servicesTable, unmanagedOf, unmanagedTable } from './fleet-view';
import { html, table, tr, type Html } from './html';

/**
 * What to do next, before any table (docs/ui-api.md, "Empty pages"): with no
 * node, how one joins; for a node that reports without a services.yaml, the
 * one click that drafts it from what runs there; for a node whose agent
 * cannot reach Docker, how to fix that first.
 */
function nextSteps(s: Summary): Html | false {
  if (s.nodes.length === 0)
    return html`<div class="card" id="empty-fleet"><h3>No nodes yet</h3>
<p>A node appears here as soon as its agent connects to this hub. On each Docker host: create its identity here with <code>homelab nodes add &lt;name&gt;</code>, then start the agent with what it prints (docs/deploy.md). A node described in <code>hosts/&lt;name&gt;/services.yaml</code> shows here even before it reports.</p></div>`;
  const unknown = s.findings.filter((f) => f.kind === 'unknown_node' && f.node);
  // An agent that cannot reach its engine sees nothing; no other step helps before this one.
  const dockerless = s.nodes.filter((n) => n.online && n.dockerReachable === false);
  if (!unknown.length && !dockerless.length) return false;
  return html`<div class="card" id="next-step"><h3>Next step</h3>${dockerless.map(
    (n) =>
      html`<p class="docker-down"><strong>${n.node}</strong>: its agent runs but Docker does not answer on its socket. Start Docker there (<code>sudo systemctl start docker</code>), or point the agent at the right socket (<code>--docker-socket</code>, <code>HOMELAB_DOCKER_SOCKET</code>); nothing on ${n.node} is watched until then.</p>`,
  )}${unknown.map(
    (f) =>
      html`<p><strong>${f.node!}</strong> reports but has no services.yaml, so nothing on it is watched: <a class="adopt" href="/nodes/${encodeURIComponent(f.node!)}/adopt">adopt what runs on ${f.node!}</a> (or <code>homelab adopt --node ${f.node!}</code>).</p>`,
  )}</div>`;
}

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
${nextSteps(s)}
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
