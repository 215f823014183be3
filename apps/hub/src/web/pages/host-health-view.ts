import { throttleConditions } from '@homelab/contracts';
import { html, type Html } from './html';

/** Heartbeat figures the host row shows in words; the metrics row lists the rest as they came. */
export const HOST_HEALTH_FIELDS: ReadonlySet<string> = new Set([
  'cpuTempC',
  'throttled',
  'memUsedPercent',
  'memAvailableMb',
  'load1',
  'load5',
  'load15',
  'uptimeSec',
]);

/** `93784` → `1 d 2 h`, `7260` → `2 h 1 min`, `300` → `5 min`. */
export function humanUptime(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min`;
}

/**
 * The node's host health from its latest heartbeat (docs/host-health.md), each part only when
 * the node reports it: temperature (bold when `hot`: the supervisor's host_temperature finding),
 * throttling (now in bold; since boot muted), memory, load, uptime.
 */
export function hostHealthCell(m: Readonly<Record<string, number>> | undefined, hot: boolean): Html | false {
  if (!m) return false;
  const parts: Html[] = [];
  if (m.cpuTempC !== undefined) parts.push(hot ? html`<b>CPU ${m.cpuTempC} °C</b>` : html`CPU ${m.cpuTempC} °C`);
  if (m.throttled !== undefined) {
    const c = throttleConditions(m.throttled);
    if (c.now.length) parts.push(html`<b>${c.now.map((x) => x.text).join(', ')} now</b>`);
    else if (c.sinceBoot.length) parts.push(html`<span class="muted">${c.sinceBoot.map((x) => x.text).join(', ')} since boot</span>`);
    else parts.push(html`not throttled`);
  }
  if (m.memUsedPercent !== undefined) {
    const avail = m.memAvailableMb === undefined ? '' : `, ${Math.round(m.memAvailableMb)} MB available`;
    parts.push(html`memory ${m.memUsedPercent} % used${avail}`);
  }
  if (m.load1 !== undefined) parts.push(html`load ${[m.load1, m.load5, m.load15].filter((v) => v !== undefined).join(' / ')}`);
  if (m.uptimeSec !== undefined) parts.push(html`up ${humanUptime(m.uptimeSec)}`);
  if (!parts.length) return false;
  return html`<span class="muted">host</span><span>${parts.map((p, i) => (i ? html` · ${p}` : p))}</span>`;
}
