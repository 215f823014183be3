import type { StoredEvent } from '@homelab/contracts';
import type { EventsQuery } from '../event-query';
import { html, type Html } from './html';

function what(r: StoredEvent): string {
  const d = (r.event as { data?: Record<string, unknown> }).data ?? {};
  const parts = [d.reason, d.detail, d.mount !== undefined ? `${d.mount} ${d.level ?? ''} ${d.usedPercent}%` : undefined].filter(
    (x) => x !== undefined && x !== '',
  );
  return parts.map((x) => String(x)).join(' · ');
}

/** Newest first; the script prepends live rows to #event-rows in the same shape. */
export function eventsTable(records: StoredEvent[], empty = 'no events'): Html {
  const rows = [...records]
    .reverse()
    .map(
      (r) =>
        html`<tr><td><time title="${r.rx}">${r.rx.slice(11, 19)}</time></td><td><a href="/nodes/${encodeURIComponent(r.event.node)}">${r.event.node}</a></td><td>${'service' in r.event ? r.event.service : ''}</td><td>${r.event.type}</td><td>${what(r)}</td></tr>`,
    );
  return html`<div class="scroll"><table><thead><tr><th>Time</th><th>Node</th><th>Service</th><th>Type</th><th>What</th></tr></thead><tbody id="event-rows">${rows.length ? rows : html`<tr class="empty"><td colspan="5" class="muted">${empty}</td></tr>`}</tbody></table></div>`;
}

export function eventsBody(records: StoredEvent[], q: EventsQuery, nodes: string[], types: string[]): Html {
  const select = (name: string, values: string[], current?: string) =>
    html`<select name="${name}"><option value="">all</option>${values.map((v) => html`<option${v === current && html` selected`}>${v}</option>`)}</select>`;
  return html`<h1>Events</h1>
<form class="filters" method="get">
<label>Node ${select('node', nodes, q.node)}</label>
<label>Service <input name="service" value="${q.service ?? ''}" size="14" placeholder="any"></label>
<label>Type ${select('type', types, q.type)}</label>
<button type="submit">Filter</button></form>
${q.id && html`<p>Event <code>${q.id}</code> only · <a href="/events">all events</a></p>`}
<p class="muted">Live: new events appear at the top without a reload.</p>
${eventsTable(
  records,
  q.node || q.service || q.type || q.id
    ? 'No events match this filter.'
    : 'No events yet. Agents publish what they see — services turning healthy or unhealthy, disk levels, heartbeats, Docker going away — and the hub adds nodes going online and offline; each appears here the moment it is stored.',
)}`;
}
