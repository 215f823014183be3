import type { ActionStore } from '@homelab/action-store';
import { ActionStoreError } from '@homelab/action-store';
import type { Action, AuditEntry } from '@homelab/contracts';

export interface Decision {
  to: 'approved' | 'rejected';
  by: string;
  via: AuditEntry['via'];
  note?: string;
  from?: AuditEntry['from'];
  /** The occurrence the decider saw: a later action reusing the id is not decided by an old message. */
  createdAt?: string;
  at: Date;
}

/**
 * The one way an operator decides a pending action, whether from the UI, the
 * API, the CLI or a Telegram tap (docs/notifications.md "Approve and Reject"):
 * one transition `pending → approved|rejected` with one audit entry naming who
 * and through what. A second decision loses with `conflict`.
 */
export async function decideAction(store: ActionStore, id: string, d: Decision): Promise<Action> {
  return store.transition(id, 'pending', d.to, (a) => {
    if (d.createdAt && a.createdAt !== d.createdAt)
      throw new ActionStoreError('conflict', `action ${id} is a later occurrence (created ${a.createdAt}) than the one decided on`);
    return {
      ...a,
      audit: [
        ...a.audit,
        {
          at: d.at.toISOString(),
          state: d.to,
          by: d.by,
          via: d.via,
          ...(d.note ? { note: d.note } : {}),
          ...(d.from ? { from: d.from } : {}),
        },
      ],
    };
  });
}
