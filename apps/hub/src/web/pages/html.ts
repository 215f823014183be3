/** Escapes text for HTML content and attribute values. */
export const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Markup made by `html` (or a trusted constant through `raw`): inserted as is, never escaped again. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A value a template may hold: text (escaped), markup, a list of them; null, undefined and false render nothing. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}

/**
 * The one way pages build markup: every value is escaped unless it is itself
 * `Html`, so a name, a reason or a message from an agent can never become
 * markup (docs/security.md).
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** A trusted constant as markup (never data). */
export const raw = (markup: string): Html => new Html(markup);

/** "3 min ago" style, from an ISO time; the exact time goes into a title attribute. */
export function ago(iso: string | null | undefined, now: Date): Html {
  if (!iso) return html`<span class="muted">never</span>`;
  const s = Math.round((now.getTime() - Date.parse(iso)) / 1000);
  const text =
    s < 0
      ? 'just now'
      : s < 60
        ? `${s} s ago`
        : s < 3600
          ? `${Math.floor(s / 60)} min ago`
          : s < 86400
            ? `${Math.floor(s / 3600)} h ago`
            : `${Math.floor(s / 86400)} d ago`;
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`;
}

export function table(head: string[], rows: Html[], empty = 'none'): Html {
  const body = rows.length ? rows : html`<tr><td class="muted" colspan="${head.length}">${empty}</td></tr>`;
  return html`<div class="scroll"><table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** A row; `attrs` are attribute name → value, each value escaped. */
export const tr = (cells: HtmlValue[], attrs: Record<string, string> = {}): Html =>
  html`<tr${Object.entries(attrs).map(([k, v]) => html` ${raw(k)}="${v}"`)}>${cells.map((c) => html`<td>${c}</td>`)}</tr>`;

export const badge = (text: string, kind: 'ok' | 'bad' | 'warn' | 'muted'): Html => html`<span class="badge ${kind}">${text}</span>`;
