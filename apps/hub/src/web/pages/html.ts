/** Escapes text for HTML content and attribute values. */
export const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** "3 min ago" style, from an ISO time; the exact time goes into a title attribute. */
export function ago(iso: string | null | undefined, now: Date): string {
  if (!iso) return '<span class="muted">never</span>';
  const s = Math.round((now.getTime() - Date.parse(iso)) / 1000);
  const text = s < 0 ? 'just now' : s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : s < 86400 ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 86400)} d ago`;
  return `<time datetime="${esc(iso)}" title="${esc(iso)}">${text}</time>`;
}

export function table(head: string[], rows: string[], empty = 'none'): string {
  const body = rows.length ? rows.join('') : `<tr><td class="muted" colspan="${head.length}">${esc(empty)}</td></tr>`;
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export const tr = (cells: string[], attrs = '') => `<tr${attrs ? ` ${attrs}` : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;

export const badge = (text: string, kind: 'ok' | 'bad' | 'warn' | 'muted') => `<span class="badge ${kind}">${esc(text)}</span>`;
