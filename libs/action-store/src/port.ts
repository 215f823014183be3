import { CodedError, type Action, type ActionState, type Registered } from '@homelab/contracts';
import type { QuarantinedActionFile } from './quarantine';

/** The store's codes, from the one registry (libs/contracts errors.ts). */
export type ActionStoreErrorCode = Registered<'not_found' | 'conflict' | 'invalid_transition' | 'invalid_id' | 'io'>;

export class ActionStoreError extends CodedError<ActionStoreErrorCode> {
  override name = 'ActionStoreError';
}

/**
 * Content that is not a valid Action (a caller bug, e.g. an update function
 * producing a 600-character note). Thrown before anything is written.
 */
export class InvalidActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidActionError';
  }
}

/**
 * Actions as files under `<root>/actions/<state>/<id>.json`. The directory is
 * the truth about the state; a transition writes the new content into the
 * target folder (temp, fsync, rename) before it removes the old file, each
 * followed by directory fsyncs, so a crash never leaves an action in no state
 * or with content that lags its folder, and init() settles one left in two
 * (docs/actions.md, "States"). An entry that cannot be read is moved to
 * `actions/quarantine/` and the id is free again.
 */
export interface ActionStore {
  /** Creates the state folders and repairs what a crash left half-done. */
  init(): Promise<void>;
  get(id: string): Promise<Action | null>;
  list(state?: ActionState): Promise<Action[]>;
  /**
   * Writes a new action into `pending/`. Returns 'exists' (and writes nothing)
   * when an action with this id is pending, approved or running. A terminal
   * action with the same id is archived first (renamed `<id>--<stamp>.json` in
   * its folder) so history is kept.
   */
  create(action: Action): Promise<'created' | 'exists'>;
  /**
   * Moves an action `from → to` (must be allowed by ACTION_TRANSITIONS) and
   * applies `update` to its content. Throws ActionStoreError 'conflict' when
   * it is no longer in `from` (e.g. a concurrent approve won), 'not_found'
   * when it exists nowhere, 'invalid_transition' for a forbidden move.
   */
  transition(id: string, from: ActionState, to: ActionState, update: (a: Action) => Action): Promise<Action>;
  /** Rewrites an action's content in place (same state), atomically. */
  update(id: string, state: ActionState, update: (a: Action) => Action): Promise<Action>;
  /**
   * Earlier actions that `create()` archived (`<state>/<id>--<stamp>.json`) in
   * `states`, whose stamp (the time they ended) is at or after `since`; oldest
   * first. `list()` leaves archives out; this is the history the supervisor's
   * restart budget counts. Optional so that other stores need not keep history.
   */
  archived?(opts: { since: Date; states: readonly ActionState[] }): Promise<Action[]>;
  /** Entries moved to the quarantine because they could not be read, oldest first (shown as findings). */
  quarantined?(): Promise<QuarantinedActionFile[]>;
}
