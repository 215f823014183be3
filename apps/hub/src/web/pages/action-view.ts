import type { Action } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { ago, badge, esc, table, tr } from './html';

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
  `<a href="/nodes/${encodeURIComponent(a.node)}">${esc(a.node)}</a>${a.service ? `/${esc(a.service)}` : ''}`;

/** Approve / reject buttons: plain forms (work without script); the script adds the confirmation for guarded ones. */
export function decisionForms(a: Action, p: Principal): string {
  if (a.state !== 'pending' || p.role !== 'operator') return '';
  const csrf = esc(p.session?.csrf ?? '');
  const id = encodeURIComponent(a.id);
  const confirm = a.risk === 'guarded' ? ` data-confirm="${esc(`Approve guarded ${a.type} ${a.id}? ${a.summary}`)}"` : '';
  const form = (verb: 'approve' | 'reject', label: string, extra = '') =>
    `<form method="post" class="inline" action="/api/actions/${id}/${verb}" data-api="/api/actions/${id}/${verb}"${extra}>` +
    `<input type="hidden" name="_csrf" value="${csrf}"><button class="${verb}" type="submit" data-action="${verb}" data-id="${esc(a.id)}">${label}</button></form>`;
  return `${form('approve', 'Approve', confirm)} ${form('reject', 'Reject')}`;
}

/** A disk_cleanup's dry run (the agent's preview), when the hub has one. */
function previewLine(a: Action): string {
  const p = (a as { preview?: { reclaimedBytes: number; removed: unknown[] } }).preview;
  if (!p) return '';
  return `<span class="muted">would reclaim</span><span>${(p.reclaimedBytes / 2 ** 20).toFixed(1)} MiB, ${p.removed.length} items</span>`;
}

/** A pending (or approved / running) action: what, where, why, since when, and the decision. */
export function pendingCard(a: Action, p: Principal, now: Date): string {
  return `<div class="card" data-action-id="${esc(a.id)}" data-state="${esc(a.state)}">
<h3>${esc(a.id)}</h3>
<div>${stateBadge(a.state)} ${riskBadge(a.risk)} ${esc(a.type)} on ${where(a)}</div>
<p><strong>Why:</strong> ${esc(a.summary)}</p>
<div class="kv"><span class="muted">drift</span><span>${esc(a.drift.type)}${a.drift.reason ? ` · ${esc(a.drift.reason)}` : ''}, first seen ${ago(a.drift.firstSeen, now)}</span>
<span class="muted">proposed</span><span>${ago(a.createdAt, now)}</span>
${previewLine(a)}${a.escalation ? `<span class="muted">escalated</span><span>${a.escalation.restarts} ${esc(a.escalation.from)} in ${esc(a.escalation.window)}</span>` : ''}</div>
<p class="actions-cell">${decisionForms(a, p)}</p></div>`;
}

const outputTail = (out: string | undefined) => {
  if (!out) return '';
  const tail = out.length > 4000 ? `…${out.slice(-4000)}` : out;
  return `<pre>${esc(tail)}</pre>`;
};

/** A finished action: result, error, output tail and the full audit trail. */
export function historyEntry(a: Action, now: Date): string {
  const r = a.result;
  const audit = table(
    ['At', 'State', 'By', 'Via', 'Note'],
    a.audit.map((e) =>
      tr([
        ago(e.at, now),
        stateBadge(e.state),
        esc(e.by),
        esc(e.via) + (e.from?.ip ? ` <span class="muted">${esc(e.from.ip)}</span>` : ''),
        esc(e.note ?? '') + (e.durationMs !== undefined ? ` <span class="muted">ran ${(e.durationMs / 1000).toFixed(1)} s</span>` : ''),
      ]),
    ),
  );
  return `<details class="card" id="h-${esc(a.id)}-${esc(a.updatedAt.replace(/\D/g, ''))}" data-action-id="${esc(a.id)}" data-state="${esc(a.state)}">
<summary>${stateBadge(a.state)} <strong>${esc(a.id)}</strong> · ${where(a)} · ${ago(a.updatedAt, now)}</summary>
<p>${esc(a.summary)}</p>
${r ? `<p>Result: ${stateBadge(r.status)}${r.error ? ` <code>${esc(r.error.code)}</code> ${esc(r.error.message)}` : ''}${r.replayed ? ' (replayed from the agent journal)' : ''}</p>` : ''}
${a.cancelReason ? `<p>Cancelled: <code>${esc(a.cancelReason)}</code></p>` : ''}
${r?.cleanup ? `<p>Reclaimed ${(r.cleanup.reclaimedBytes / 2 ** 20).toFixed(1)} MiB, removed ${r.cleanup.removed.length}, kept ${r.cleanup.kept.length}</p>` : ''}
${outputTail(r?.output)}
<h4>Audit</h4>${audit}</details>`;
}
