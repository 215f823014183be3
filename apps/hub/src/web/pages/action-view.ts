import type { Action } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { ago, badge, html, table, tr, type Html } from './html';

const STATE_KIND: Record<string, 'ok' | 'bad' | 'warn' | 'muted'> = {
  pending: 'warn',
  approved: 'warn',
  running: 'warn',
  completed: 'ok',
  failed: 'bad',
  rejected: 'muted',
  cancelled: 'muted',
};

export const stateBadge = (state: string) => badge(state, STATE_KIND[state] ?? 'muted');
export const riskBadge = (risk: string) => badge(risk, risk === 'guarded' ? 'bad' : 'muted');
export const where = (a: { node: string; service?: string }) =>
  html`<a href="/nodes/${encodeURIComponent(a.node)}">${a.node}</a>${a.service && html`/${a.service}`}`;

/** Approve / reject buttons: plain forms (work without script); the script adds the confirmation for guarded ones. */
export function decisionForms(a: Action, p: Principal): Html {
  if (a.state !== 'pending' || p.role !== 'operator') return html``;
  const csrf = p.session?.csrf ?? '';
  const id = encodeURIComponent(a.id);
  const confirm = a.risk === 'guarded' && html` data-confirm="${`Approve guarded ${a.type} ${a.id}? ${a.summary}`}"`;
  const form = (verb: 'approve' | 'reject', label: string, extra: Html | false = false) =>
    html`<form method="post" class="inline" action="/api/actions/${id}/${verb}" data-api="/api/actions/${id}/${verb}"${extra}><input type="hidden" name="_csrf" value="${csrf}"><button class="${verb}" type="submit" data-action="${verb}" data-id="${a.id}">${label}</button></form>`;
  return html`${form('approve', 'Approve', confirm)} ${form('reject', 'Reject')}`;
}

/** A disk_cleanup's dry run (the agent's preview), when the hub has one. */
function previewLine(a: Action): Html | false {
  const p = (a as { preview?: { reclaimedBytes: number; removed: unknown[] } }).preview;
  if (!p) return false;
  return html`<span class="muted">would reclaim</span><span>${(p.reclaimedBytes / 2 ** 20).toFixed(1)} MiB, ${p.removed.length} items</span>`;
}

/** A pending (or approved / running) action: what, where, why, since when, and the decision. */
export function pendingCard(a: Action, p: Principal, now: Date): Html {
  return html`<div class="card" data-action-id="${a.id}" data-state="${a.state}">
<h3><a href="/actions/${encodeURIComponent(a.id)}">${a.id}</a></h3>
<div>${stateBadge(a.state)} ${riskBadge(a.risk)} ${a.type} on ${where(a)}</div>
<p><strong>Why:</strong> ${a.summary}</p>
<div class="kv"><span class="muted">drift</span><span>${a.drift.type}${a.drift.reason && html` · ${a.drift.reason}`}, first seen ${ago(a.drift.firstSeen, now)}</span>
<span class="muted">proposed</span><span>${ago(a.createdAt, now)}</span>
${previewLine(a)}${a.escalation && html`<span class="muted">escalated</span><span>${a.escalation.restarts} ${a.escalation.from} in ${a.escalation.window}</span>`}</div>
<p class="actions-cell">${decisionForms(a, p)}</p></div>`;
}

const outputTail = (out: string | undefined) => {
  if (!out) return false;
  const tail = out.length > 4000 ? `…${out.slice(-4000)}` : out;
  return html`<pre>${tail}</pre>`;
};

/** A finished action: result, error, output tail and the full audit trail. */
export function historyEntry(a: Action, now: Date): Html {
  const r = a.result;
  const audit = table(
    ['At', 'State', 'By', 'Via', 'Note'],
    a.audit.map((e) =>
      tr([
        ago(e.at, now),
        stateBadge(e.state),
        e.by,
        html`${e.via}${e.from?.ip && html` <span class="muted">${e.from.ip}</span>`}`,
        html`${e.note ?? ''}${e.durationMs !== undefined && html` <span class="muted">ran ${(e.durationMs / 1000).toFixed(1)} s</span>`}`,
      ]),
    ),
  );
  return html`<details class="card" id="h-${a.id}-${a.updatedAt.replace(/\D/g, '')}" data-action-id="${a.id}" data-state="${a.state}">
<summary>${stateBadge(a.state)} <strong>${a.id}</strong> · ${where(a)} · ${ago(a.updatedAt, now)}</summary>
<p>${a.summary} · <a href="/actions/${encodeURIComponent(a.id)}">the chain from event to result</a></p>
${r && html`<p>Result: ${stateBadge(r.status)}${r.error && html` <code>${r.error.code}</code> ${r.error.message}`}${r.replayed && ' (replayed from the agent journal)'}</p>`}
${a.cancelReason && html`<p>Cancelled: <code>${a.cancelReason}</code></p>`}
${r?.cleanup && html`<p>Reclaimed ${(r.cleanup.reclaimedBytes / 2 ** 20).toFixed(1)} MiB, removed ${r.cleanup.removed.length}, kept ${r.cleanup.kept.length}</p>`}
${outputTail(r?.output)}
<h4>Audit</h4>${audit}</details>`;
}
