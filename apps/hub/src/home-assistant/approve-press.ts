import type { ActionStore } from '@homelab/action-store';
import { ApprovePress, decodePayload, type Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { decideAction } from '../decide';

export interface ApprovePressDeps {
  /** HOMELAB_HA_APPROVE_BUTTONS: without it a press is refused even if a broker let it through. */
  enabled: boolean;
  store: ActionStore;
  /** Wakes the executor, as an approval in the UI does. */
  onDecision: () => void;
  clock: Clock;
  log: Logger;
  maxPayloadBytes: number;
}

export type PressOutcome = 'approved' | 'disabled' | 'invalid' | 'refused';

/**
 * A press of an Approve button in Home Assistant (docs/home-assistant.md,
 * "The Approve button"): the same approval as the UI's (decideAction), audited
 * as `home-assistant`, for the pending action the button was made for (its
 * `createdAt`): a stale button of an earlier action with the same id approves
 * nothing. Never throws.
 */
export async function handleApprovePress(payload: Buffer, deps: ApprovePressDeps): Promise<PressOutcome> {
  if (!deps.enabled) {
    deps.log.warn('an Approve press arrived but Approve buttons are off (HOMELAB_HA_APPROVE_BUTTONS): ignored');
    return 'disabled';
  }
  const press = decodePayload(payload, ApprovePress, deps.maxPayloadBytes);
  if (!press.ok) {
    deps.log.warn({ reason: press.reason, detail: press.detail }, 'invalid Approve press from Home Assistant: ignored');
    return 'invalid';
  }
  const { actionId, createdAt } = press.data;
  try {
    // createdAt: a button made for an earlier occurrence of a reused id decides nothing.
    await decideAction(deps.store, actionId, { to: 'approved', by: 'home-assistant', via: 'home-assistant', createdAt, at: deps.clock.now() });
  } catch (err) {
    deps.log.warn({ err, actionId }, 'Approve press from Home Assistant refused');
    return 'refused';
  }
  deps.log.info({ actionId }, 'action approved from Home Assistant');
  deps.onDecision();
  return 'approved';
}
