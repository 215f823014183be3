import type { StoredEvent } from '@homelab/contracts';
import type { EventsQuery } from '../event-query';
import { esc } from './html';

function what(r: StoredEvent): string {
  const d = (r.event as { data?: Record<string, unknown> }).data ?? {};
  const parts = [d.reason, d.detail, d.mount !== undefined ? `${d.mount} ${d.level ?? ''} ${d.usedPercent}%` : undefined].filter((x) => x !== undefined && x !== '');
  return parts.map((x) => esc(x)).join(' · ');
}

/** Newest first; the script prepends live rows to #event-rows in the same shape. */
export function eventsTable(records: StoredEvent[]): string {
  const rows = [...records]
    .reverse()
    .map(
      (r) =>
        `<tr><td><time title="${esc(r.rx)}">${esc(r.rx.slice(11, 19))}</time></td><td><a href="/nodes/${encodeURIComponent(r.event.node)}">${esc(r.event.node)}</a></td><td>${esc('service' in r.event ? r.event.service : '')}</td><td>${esc(r.event.type)}</td><td>${what(r)}</td></tr>`,
    )
    .join('');
  return `<div class="scroll"><table><thead><tr><th>Time</th><th>Node</th><th>Service</th><th>Type</th><th>What</th></tr></thead><tbody id="event-rows">${rows || '<tr class="empty"><td colspan="5" class="muted">no events</td></tr>'}</tbody></table></div>`;
}

export function eventsBody(records: StoredEvent[], q: EventsQuery, nodes: string[], types: string[]): string {
  const select = (name: string, values: string[], current?: string) =>
    `<select name="${name}"><option value="">all</option>${values.map((v) => `<option${v === current ? ' selected' : ''}>${esc(v)}</option>`).join('')}</select>`;
  return `<h1>Events</h1>
<form class="filters" method="get">
<label>Node ${select('node', nodes, q.node)}</label>
<label>Service <input name="service" value="${esc(q.service ?? '')}" size="14" placeholder="any"></label>
<label>Type ${select('type', types, q.type)}</label>
<button type="submit">Filter</button></form>
<p class="muted">Live: new events appear at the top without a reload.</p>
${eventsTable(records)}`;
}
