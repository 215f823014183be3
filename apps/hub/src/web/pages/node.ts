import { CLOCK_SKEW_FINDING_MS, type Action, type StoredEvent, type Summary, type World } from '@homelab/contracts';
import { humanOffset } from '../../supervisor/clock-skew';
import type { Principal } from '../auth/guard';
import { historyEntry, pendingCard } from './action-view';
import { eventsTable } from './events';
import { HOST_HEALTH_FIELDS, hostHealthCell } from './host-health-view';
import { diskCell, nodeStatus, servicesTable, unmanagedOf, unmanagedTable } from './fleet-view';
import { ago, html, type Html } from './html';

export function nodeBody(
  node: string,
  s: Summary,
  world: World,
  history: Action[],
  events: StoredEvent[],
  p: Principal,
  now: Date,
  /** The node's services in desired state (monitored): what a restart or redeploy can be proposed for. */
  desiredServices: string[] = [],
): Html | null {
  const n = s.nodes.find((x) => x.node === node);
  if (!n) return null;
  const services = s.services.filter((v) => v.node === node);
  const waiting = [...s.actions.pending, ...s.actions.running].filter((a) => a.node === node);
  const metrics = Object.entries(n.metrics ?? {})
    .filter(([k]) => !HOST_HEALTH_FIELDS.has(k))
    .map(([k, v]) => `${k} ${Math.round(v * 10) / 10}`)
    .join(', ');
  const unmanaged = unmanagedOf(world, node);
  const hot = s.findings.some((f) => f.kind === 'host_temperature' && f.node === node);
  return html`<h1>Node ${node}</h1>
<div class="card kv">
<span class="muted">status</span><span>${nodeStatus(n)} since ${ago(n.statusSince, now)}</span>
<span class="muted">last seen</span><span>${ago(n.lastSeen, now)}</span>
<span class="muted">docker</span><span>${n.dockerReachable === null ? '–' : n.dockerReachable ? 'reachable' : 'unreachable'}</span>
<span class="muted">disk</span><span>${diskCell(n)}</span>
${hostHealthCell(n.metrics, hot)}
${metrics && html`<span class="muted">metrics</span><span>${metrics}</span>`}
<span class="muted">session / seq</span><span>${n.session ?? '–'} / ${n.lastSeq ?? '–'}</span>
${clockRow(n)}
</div>
<h2>Services (${services.length})</h2>${services.length ? servicesTable(services, now, 2000) : noServices(node, n.desiredServices)}
<h2>Actions</h2>${p.role === 'operator' && manualForms(node, desiredServices, p)}${waiting.length ? waiting.map((a) => pendingCard(a, p, now)) : html`<p class="muted">Nothing pending or running.</p>`}
${history.slice(0, 10).map((a) => historyEntry(a, now))}
<h2>Unmanaged containers</h2>${unmanaged ? unmanagedTable(unmanaged.map((c) => ({ node, c }))) : html`<p class="muted">The agent has not reported an inventory.</p>`}
${unmanaged?.some((c) => c.adopt !== false) && html`<p><a id="adopt" href="/nodes/${encodeURIComponent(node)}/adopt">Adopt what runs: draft services.yaml from these containers…</a></p>`}
<h2>Recent events</h2>${eventsTable(events)}<p><a href="/events?node=${encodeURIComponent(node)}">live events of ${node}</a></p>`;
}

/** A node without services yet: why, and how it gets some. */
function noServices(node: string, desired: number): Html {
  const adopt = html`<a href="/nodes/${encodeURIComponent(node)}/adopt">adopt what runs</a>`;
  return html`<p class="muted" id="empty-services">${
    desired > 0
      ? html`${desired} services are described in hosts/${node}/services.yaml; they appear here once the agent reports them.`
      : html`No services yet. A service appears here once <code>hosts/${node}/services.yaml</code> lists it and the agent reports on it: ${adopt} to draft that file from the node's containers.`
  }</p>`;
}

/**
 * Restart or redeploy a service, or clean the node's disk, now: a proposal that
 * waits on the Actions page for approval like any other (docs/actions.md,
 * "Manual actions"). Plain forms; operators only.
 */
function manualForms(node: string, services: string[], p: Principal): Html {
  const csrf = html`<input type="hidden" name="_csrf" value="${p.session?.csrf ?? ''}"><input type="hidden" name="node" value="${node}">`;
  const rows = services.map(
    (v) =>
      html`<form method="post" class="inline" action="/api/actions">${csrf}<input type="hidden" name="service" value="${v}">${v}: <button type="submit" name="type" value="container_restart" data-propose="container_restart/${v}">Restart</button> <button type="submit" name="type" value="redeploy" data-propose="redeploy/${v}">Redeploy</button></form> `,
  );
  return html`<div class="card"><p class="muted">Propose now (approve it on the Actions page):</p>${rows}<form method="post" class="inline" action="/api/actions">${csrf}<button type="submit" name="type" value="disk_cleanup">Disk cleanup (with preview)</button></form></div>`;
}

/** The node's clock against the hub's (WorldNode.clocks), per name its events came under. */
function clockRow(n: Summary['nodes'][number]): Html | false {
  const clocks = Object.entries(n.clocks ?? {});
  if (!clocks.length) return false;
  const text = clocks.map(([name, c], i) => {
    const who = name === n.node ? '' : `${name}: `;
    const sep = i > 0 && ', ';
    if (Math.abs(c.offsetMs) <= CLOCK_SKEW_FINDING_MS) return html`${sep}${who}in step with the hub (${c.offsetMs} ms)`;
    return html`${sep}${who}<b>${humanOffset(Math.abs(c.offsetMs))} ${c.offsetMs > 0 ? 'ahead of' : 'behind'} the hub</b> (times corrected)`;
  });
  return html`<span class="muted">clock</span><span>${text}</span>`;
}
