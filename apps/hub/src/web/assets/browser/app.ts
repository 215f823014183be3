/**
 * The only script of the UI (no framework). It
 * - listens to /api/stream (server-sent events): on `change` it re-fetches the
 *   current page's <main> (header `x-fragment: 1`) so it is live without a
 *   reload; on the events page it prepends each `event` to the table;
 * - sends approve/reject with the session's CSRF token, asking for a
 *   confirmation first when the action is guarded;
 * - puts /summary?format=markdown on the clipboard ("Copy for AI").
 * Type-checked against the DOM (tsconfig.json beside it) and served as
 * /assets/app.js (../app-js.ts).
 */

/** What /api/stream sends as `event: event` (a StoredEvent, only the fields shown). */
interface StreamedEvent {
  rx: string;
  event: { node: string; service?: string; type: string; data?: { reason?: string; detail?: string; mount?: string; level?: string; usedPercent?: number } };
}

(() => {
  'use strict';
  const csrf = document.querySelector<HTMLMetaElement>('meta[name=csrf]')?.content || '';
  const page = document.body.dataset.page;
  const main = document.getElementById('main')!;
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  const toast = (text: string) => {
    const t = document.getElementById('toast')!;
    t.textContent = text;
    t.className = 'show';
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      t.className = '';
    }, 2500);
  };
  const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

  let refreshing: Promise<void> | null = null,
    again = false;
  async function refresh(): Promise<void> {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = fetch(location.pathname + location.search, { headers: { 'x-fragment': '1' }, credentials: 'same-origin' })
      .then(async (r) => {
        if (r.status === 401) location.reload();
        else if (r.ok) {
          const open = [...main.querySelectorAll('details[open]')].map((d) => d.id);
          main.innerHTML = await r.text();
          open.forEach((id) => {
            const d = id && document.getElementById(id);
            if (d instanceof HTMLDetailsElement) d.open = true;
          });
        }
      })
      .catch(() => {})
      .finally(() => {
        refreshing = null;
        if (again) {
          again = false;
          void refresh();
        }
      });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  };

  function eventRow(rec: StreamedEvent): HTMLTableRowElement {
    const e = rec.event,
      d = e.data || {};
    const what = [d.reason, d.detail, d.mount && d.mount + ' ' + (d.level || '') + ' ' + d.usedPercent + '%'].filter(Boolean).join(' · ');
    const tr = document.createElement('tr');
    tr.className = 'new';
    tr.innerHTML =
      '<td><time title="' +
      esc(rec.rx) +
      '">' +
      esc(new Date(rec.rx).toLocaleTimeString()) +
      '</time></td><td><a href="/nodes/' +
      encodeURIComponent(e.node) +
      '">' +
      esc(e.node) +
      '</a></td><td>' +
      esc(e.service || '') +
      '</td><td>' +
      esc(e.type) +
      '</td><td>' +
      esc(what) +
      '</td>';
    return tr;
  }

  const live = document.getElementById('live');
  function connect(): void {
    const q = page === 'events' ? location.search : '?events=0';
    const es = new EventSource('/api/stream' + q);
    es.onopen = () => live && live.classList.add('on');
    es.onerror = () => live && live.classList.remove('on');
    es.addEventListener('change', () => {
      if (page !== 'events') soon();
    });
    es.addEventListener('event', (m) => {
      if (page !== 'events') return;
      const body = document.getElementById('event-rows');
      if (!(body instanceof HTMLTableSectionElement)) return;
      body.querySelector('.empty')?.remove();
      body.prepend(eventRow(JSON.parse(m.data) as StreamedEvent));
      while (body.rows.length > 500) body.deleteRow(-1);
    });
  }
  // The mirror's page (docs/ui-api.md, "Mirror's page") has no stream; it reloads itself.
  if (document.body.dataset.live !== 'off') connect();

  document.addEventListener('submit', async (ev) => {
    const f = ev.target;
    if (!(f instanceof HTMLFormElement) || !f.dataset.api) return;
    ev.preventDefault();
    if (f.dataset.confirm && !confirm(f.dataset.confirm)) return;
    f.querySelectorAll('button').forEach((b) => {
      b.disabled = true;
    });
    const r = await fetch(f.dataset.api, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: '{}',
    });
    const j = (await r.json().catch(() => ({}))) as { id?: string; state?: string; message?: string };
    toast(r.ok ? j.id + ': ' + j.state : j.message || 'failed: ' + r.status);
    void refresh();
  });

  // navigator.clipboard exists only in secure contexts (https, localhost): on a plain-http LAN
  // address fall back to a selected textarea and execCommand, and at worst leave it selected.
  function copyFallback(text: string): boolean {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'copy-box';
    main.prepend(ta);
    ta.focus();
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    if (ok) ta.remove();
    return ok;
  }
  document.getElementById('copy-ai')?.addEventListener('click', async () => {
    try {
      const r = await fetch('/summary?format=markdown', { credentials: 'same-origin' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const text = await r.text();
      let ok = false;
      if (navigator.clipboard && window.isSecureContext) {
        try {
          await navigator.clipboard.writeText(text);
          ok = true;
        } catch {
          ok = false;
        }
      }
      if (!ok) ok = copyFallback(text);
      toast(ok ? 'Summary copied (' + text.length + ' characters)' : 'Select the text above and copy it');
    } catch (e) {
      toast('Could not copy: ' + (e as Error).message);
    }
  });
})();
