import type { ActionStore } from '@homelab/action-store';
import type { Action, ActionState } from '@homelab/contracts';

/**
 * The hub's action store with a change signal: every create / transition /
 * update through it bumps `version` and calls `onChange`, so the UI's live
 * stream and the summary cache learn about supervisor, executor and HTTP
 * decisions at once. Reads pass straight through (files may also be written
 * by other processes; the summary cache re-reads them on a timer).
 */
export class NotifyingActionStore implements ActionStore {
  version = 0;

  constructor(
    private readonly inner: ActionStore,
    private readonly onChange: () => void,
    /** Every action after a transition made through this store (e.g. for /metrics). */
    private readonly onTransition?: (action: Action) => void,
  ) {
    if (inner.archived) this.archived = (opts) => inner.archived!(opts);
    if (inner.quarantined) this.quarantined = () => inner.quarantined!();
  }

  archived?: ActionStore['archived'];
  quarantined?: ActionStore['quarantined'];

  private bump<T>(value: T): T {
    this.version++;
    this.onChange();
    return value;
  }

  init(): Promise<void> {
    return this.inner.init();
  }
  get(id: string): Promise<Action | null> {
    return this.inner.get(id);
  }
  list(state?: ActionState): Promise<Action[]> {
    return this.inner.list(state);
  }
  async create(action: Action): Promise<'created' | 'exists'> {
    const r = await this.inner.create(action);
    return r === 'created' ? this.bump(r) : r;
  }
  async transition(id: string, from: ActionState, to: ActionState, update: (a: Action) => Action): Promise<Action> {
    const action = await this.inner.transition(id, from, to, update);
    this.onTransition?.(action);
    return this.bump(action);
  }
  async update(id: string, state: ActionState, update: (a: Action) => Action): Promise<Action> {
    return this.bump(await this.inner.update(id, state, update));
  }
}
