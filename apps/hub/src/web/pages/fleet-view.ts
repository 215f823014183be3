import type { Summary, UnmanagedContainer, World } from '@homelab/contracts';
import { ago, badge, html, table, tr, type Html } from './html';

type SummaryNode = Summary['nodes'][number];
type SummaryService = Summary['services'][number];

export type Unmanaged = UnmanagedContainer;

/** `unmanaged` arrives with the agent's inventory (node_inventory); absent on older worlds. */
export function unmanagedOf(world: World, node: string): Unmanaged[] | undefined {
  return world.nodes[node]?.unmanaged;
}

export function nodeStatus(n: Pick<SummaryNode, 'online'>): Html {
  return n.online === null ? badge('never seen', 'muted') : n.online ? badge('online', 'ok') : badge('offline', 'bad');
}

export function diskCell(n: Pick<SummaryNode, 'disks'>): Html {
  const disks = Object.values(n.disks);
  if (!disks.length) return html`<span class="muted">–</span>`;
  return html`${disks
    .sort((a, b) => b.usedPercent - a.usedPercent)
    .map(
      (d, i) => html`${i > 0 && html`<br>`}${d.level !== 'ok' && badge(d.level, d.level === 'high' ? 'bad' : 'warn')} ${d.mount} ${Math.round(d.usedPercent)}%`,
    )}`;
}

/** Nodes with a problem (offline, Docker unreachable, disk, unhealthy services) first; at most `max` rows. */
export function nodesTable(nodes: SummaryNode[], services: SummaryService[], now: Date, max = 100): Html {
  const unhealthy = new Map<string, number>();
  const total = new Map<string, number>();
  for (const s of services) {
    total.set(s.node, (total.get(s.node) ?? 0) + 1);
    if (s.status === 'unhealthy') unhealthy.set(s.node, (unhealthy.get(s.node) ?? 0) + 1);
  }
  const trouble = (n: SummaryNode) =>
    n.online === false || n.dockerReachable === false || Object.values(n.disks).some((d) => d.level !== 'ok') || (unhealthy.get(n.node) ?? 0) > 0;
  const sorted = [...nodes].sort((a, b) => Number(trouble(b)) - Number(trouble(a)));
  const more = sorted.length - max;
  const rows = table(
    ['Node', 'Status', 'Disk', 'Last seen', 'Services'],
    sorted
      .slice(0, max)
      .map((n) =>
        tr(
          [
            html`<a href="/nodes/${encodeURIComponent(n.node)}">${n.node}</a>`,
            html`${nodeStatus(n)}${n.dockerReachable === false && html` ${badge('docker unreachable', 'bad')}`}`,
            diskCell(n),
            ago(n.lastSeen, now),
            html`${total.get(n.node) ?? 0}${!!unhealthy.get(n.node) && html` ${badge(`${unhealthy.get(n.node)} unhealthy`, 'bad')}`} <span class="muted">(${n.desiredServices} desired)</span>`,
          ],
          { 'data-node': n.node },
        ),
      ),
    'no nodes yet',
  );
  return html`${rows}${more > 0 && html`<p class="muted">${more} more nodes without problems.</p>`}`;
}

/** Unhealthy first, then by name; at most `max` rows (20,000 services must not make a 10 MB page). */
export function servicesTable(services: SummaryService[], now: Date, max = 100): Html {
  const sorted = [...services].sort((a, b) => Number(a.status === 'healthy') - Number(b.status === 'healthy'));
  const shown = sorted.slice(0, max);
  const more = sorted.length - shown.length;
  const rows = table(
    ['Service', 'Health', 'Reason', 'Since'],
    shown.map((v) =>
      tr(
        [
          html`<a href="/nodes/${encodeURIComponent(v.node)}">${v.node}</a>/${v.service}${!v.desired && html` <span class="muted">(not desired)</span>`}`,
          v.status === 'healthy' ? badge('healthy', 'ok') : badge(v.status, v.status === 'starting' ? 'warn' : 'bad'),
          html`${v.reason ?? ''}${v.detail && html` <span class="muted">${v.detail}</span>`}`,
          ago(v.since, now),
        ],
        { 'data-service': `${v.node}/${v.service}`, 'data-status': v.status },
      ),
    ),
    'no services reported yet',
  );
  return html`${rows}${more > 0 && html`<p class="muted">${more} more services (healthy ones last): see each node's page.</p>`}`;
}

export function unmanagedTable(rows: { node: string; c: Unmanaged }[]): Html {
  return table(
    ['Node', 'Container', 'State', 'Image'],
    rows.map(({ node, c }) => tr([html`<a href="/nodes/${encodeURIComponent(node)}">${node}</a>`, c.name, c.state, c.image ?? ''])),
    'none reported',
  );
}
