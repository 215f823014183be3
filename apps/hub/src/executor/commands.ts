import { z } from 'zod';
import { Command, type Action, type AuditEntry, type CommandResult } from '@homelab/contracts';

/** What `handleResult` did with a result (logged by the caller, counted in tests). */
export const ResultOutcome = z.enum(['applied', 'unknown_action', 'node_mismatch', 'stale_occurrence', 'not_running', 'store_error']);
export type ResultOutcome = z.infer<typeof ResultOutcome>;

/** The command for a running action; the same bytes every time it is (re)sent. */
export function commandFor(a: Action): Command {
  if (!a.command) throw new Error(`action ${a.id} has no command yet`);
  return Command.parse({
    actionId: a.id,
    node: a.node,
    type: a.type,
    ...(a.service ? { service: a.service } : {}),
    issuedAt: a.command.sentAt,
    deadline: a.command.deadline,
    // The agent's journal keys executions by (id, createdAt): a resend is answered, a new occurrence runs.
    actionCreatedAt: a.createdAt,
    ...(a.removeVolumes ? { removeVolumes: true } : {}),
  });
}

export function executorAudit(at: Date, state: AuditEntry['state'], note: string, timing: Pick<AuditEntry, 'durationMs' | 'sinceApprovalMs'> = {}): AuditEntry {
  return { at: at.toISOString(), state, by: 'executor', via: 'executor', note: note.slice(0, 500), ...timing };
}

/**
 * Durations for the terminal audit entry: `durationMs` = the agent's
 * finishedAt − startedAt (both from the agent's clock, so skew cancels out),
 * `sinceApprovalMs` = from the approval entry (hub clock) to `now`.
 */
export function outcomeTiming(
  a: Pick<Action, 'audit'>,
  now: Date,
  result?: Pick<CommandResult, 'startedAt' | 'finishedAt'>,
): Pick<AuditEntry, 'durationMs' | 'sinceApprovalMs'> {
  const out: Pick<AuditEntry, 'durationMs' | 'sinceApprovalMs'> = {};
  if (result) {
    const ran = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
    if (Number.isFinite(ran) && ran >= 0) out.durationMs = ran;
  }
  const approval = [...a.audit].reverse().find((e) => e.state === 'approved');
  if (approval) {
    const since = now.getTime() - Date.parse(approval.at);
    if (Number.isFinite(since) && since >= 0) out.sinceApprovalMs = since;
  }
  return out;
}

/** The result recorded when the agent never answered in time. */
export function deadlineResult(a: Action, now: Date, timeoutMs: number): CommandResult {
  return {
    actionId: a.id,
    node: a.node,
    status: 'failed',
    startedAt: a.command?.sentAt ?? now.toISOString(),
    finishedAt: now.toISOString(),
    output: '',
    error: {
      code: 'deadline_exceeded',
      message: `no result from ${a.node} before the deadline ${a.command?.deadline ?? '?'} (${Math.round(timeoutMs / 1000)} s after sending)`,
    },
  };
}

/** `1234` → `1.2 s`; agents' clocks may be skewed, but both ends of a duration come from the same agent. */
export function humanDuration(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return 'unknown time';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function resultNote(r: CommandResult): string {
  const how = r.replayed ? ' (answered from the agent journal)' : '';
  const why = r.error ? `: ${r.error.code}` : '';
  return `${r.status} on ${r.node} in ${humanDuration(r.startedAt, r.finishedAt)}${how}${why}`;
}

export function sameInstant(a: string, b: string): boolean {
  return a === b || Date.parse(a) === Date.parse(b);
}
