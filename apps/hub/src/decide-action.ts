import type { ActionStore } from '@homelab/action-store';
import type { Action, AuditEntry } from '@homelab/contracts';

/** Who decided, how and from where: the audit entry of a decision without its time and state. */
export type Decision = Omit<AuditEntry, 'at' | 'state'>;

/**
 * The one path of an operator's decision on a pending action (UI, API, CLI,
 * Home Assistant's Approve button): the move out of `pending/` with its audit
 * entry, in one atomic transition (docs/actions.md). `check` sees the action
 * as stored and may throw to refuse (nothing is written then).
 */
export function decideAction(
  store: ActionStore,
  id: string,
  to: 'approved' | 'rejected',
  decision: Decision,
  at: Date,
  check?: (a: Action) => void,
): Promise<Action> {
  return store.transition(id, 'pending', to, (a) => {
    check?.(a);
    return { ...a, audit: [...a.audit, { at: at.toISOString(), state: to, ...decision }] };
  });
}
