import type { Summary, World } from '@homelab/contracts';
import { ago, badge, esc, table, tr } from './html';

type SummaryNode = Summary['nodes'][number];
type SummaryService = Summary['services'][number];

export interface Unmanaged {
  name: string;
  state: string;
  image?: string;
}

/** `unmanaged` arrives with the agent's inventory (node_inventory); absent on older worlds. */
export function unmanagedOf(world: World, node: string): Unmanaged[] | undefined {
  return (world.nodes[node] as { unmanaged?: Unmanaged[] } | undefined)?.unmanaged;
}

export function nodeStatus(n: Pick<SummaryNode, 'online'>): string {
  return n.online === null ? badge('never seen', 'muted') : n.online ? badge('online', 'ok') : badge('offline', 'bad');
}

export function diskCell(n: Pick<SummaryNode, 'disks'>): string {
  const disks = Object.values(n.disks);
  if (!disks.length) return '<span class="muted">–</span>';
  return disks
    .sort((a, b) => b.usedPercent - a.usedPercent)
    .map((d) => `${d.level === 'ok' ? '' : badge(d.level, d.level === 'high' ? 'bad' : 'warn')} ${esc(d.mount)} ${Math.round(d.usedPercent)}%`)
    .join('<br>');
}

/** Nodes with a problem (offline, Docker unreachable, disk, unhealthy services) first; at most `max` rows. */
export function nodesTable(nodes: SummaryNode[], services: SummaryService[], now: Date, max = 100): string {
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
  return table(
    ['Node', 'Status', 'Disk', 'Last seen', 'Services'],
    sorted.slice(0, max).map((n) =>
      tr(
        [
          `<a href="/nodes/${encodeURIComponent(n.node)}">${esc(n.node)}</a>`,
          nodeStatus(n) + (n.dockerReachable === false ? ` ${badge('docker unreachable', 'bad')}` : ''),
          diskCell(n),
          ago(n.lastSeen, now),
          `${total.get(n.node) ?? 0}${unhealthy.get(n.node) ? ` ${badge(`${unhealthy.get(n.node)} unhealthy`, 'bad')}` : ''} <span class="muted">(${n.desiredServices} desired)</span>`,
        ],
        `data-node="${esc(n.node)}"`,
      ),
    ),
    'no nodes yet',
  ) + (more > 0 ? `<p class="muted">${more} more nodes without problems.</p>` : '');
}

/** Unhealthy first, then by name; at most `max` rows (20,000 services must not make a 10 MB page). */
export function servicesTable(services: SummaryService[], now: Date, max = 100): string {
  const sorted = [...services].sort((a, b) => Number(a.status === 'healthy') - Number(b.status === 'healthy'));
  const shown = sorted.slice(0, max);
  const more = sorted.length - shown.length;
  return (
    table(
      ['Service', 'Health', 'Reason', 'Since'],
      shown.map((v) =>
        tr(
          [
            `<a href="/nodes/${encodeURIComponent(v.node)}">${esc(v.node)}</a>/${esc(v.service)}${v.desired ? '' : ' <span class="muted">(not desired)</span>'}`,
            v.status === 'healthy' ? badge('healthy', 'ok') : badge(v.status, v.status === 'starting' ? 'warn' : 'bad'),
            esc(v.reason ?? '') + (v.detail ? ` <span class="muted">${esc(v.detail)}</span>` : ''),
            ago(v.since, now),
          ],
          `data-service="${esc(`${v.node}/${v.service}`)}" data-status="${esc(v.status)}"`,
        ),
      ),
      'no services reported yet',
    ) + (more > 0 ? `<p class="muted">${more} more services (healthy ones last): see each node's page.</p>` : '')
  );
}

export function unmanagedTable(rows: { node: string; c: Unmanaged }[]): string {
  return table(
    ['Node', 'Container', 'State', 'Image'],
    rows.map(({ node, c }) => tr([`<a href="/nodes/${encodeURIComponent(node)}">${esc(node)}</a>`, esc(c.name), esc(c.state), esc(c.image ?? '')])),
    'none reported',
  );
}
