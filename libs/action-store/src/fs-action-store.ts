import path from 'node:path';
import { ACTION_STATES, ACTION_TRANSITIONS, ActionState, TERMINAL_STATES, systemClock, type Action, type Clock } from '@homelab/contracts';
import { createLogger, type Logger } from '@homelab/logging';
import { archiveActionFile, encodeAction, readActionFile, validAction } from './codec';
import { isExists, isNotFound, nodeFsOps, writeAtomic, type FsOps } from './durable';
import { KeyedMutex } from './keyed-mutex';
import { ActionLayout, archiveOfFileName, assertActionId, idOfFileName, stateRank } from './layout';
import { ActionStoreError, InvalidActionError, type ActionStore } from './port';
import { listQuarantine, quarantineEntry, type QuarantinedActionFile } from './quarantine';
import { repairActions, type RepairReport } from './repair';

export interface FsActionStoreOptions {
  /** Data root (docs/architecture.md, "Data root"); actions live under `<root>/actions/`. */
  root: string;
  log?: Logger;
  /** Source of `updatedAt` and audit times; the system clock by default. */
  clock?: Clock;
  /** Filesystem calls; tests inject faults here. */
  fs?: FsOps;
}

const LIVE: readonly ActionState[] = ['pending', 'approved', 'running'];

/**
 * ActionStore on plain files (see port.ts for the protocol). Assumes one
 * writing process (the hub); the CLI and UI go through its API. Inside that
 * process a per-id mutex serializes create/transition/update.
 */
export class FsActionStore implements ActionStore {
  private readonly layout: ActionLayout;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly ops: FsOps;
  private readonly mutex = new KeyedMutex();
  /** Why each entry this process quarantined could not be read, by its quarantine path. */
  private readonly quarantineProblems = new Map<string, string>();
  /** Parsed archives by file (archives never change); only those inside the last `archived()` range are kept. */
  private archiveCache = new Map<string, Action | null>();
  /** Entries this process moved to the quarantine because they could not be read. */
  quarantinedCount = 0;
  /** What the last `init()` repaired. */
  lastRepair: RepairReport | null = null;

  constructor(opts: FsActionStoreOptions) {
    this.layout = new ActionLayout(opts.root);
    this.log = opts.log ?? createLogger('action-store', { level: 'silent' });
    this.clock = opts.clock ?? systemClock;
    this.ops = opts.fs ?? nodeFsOps;
  }

  async init(): Promise<void> {
    this.lastRepair = await this.io('init', async () => {
      if (await this.ops.mkdirp(this.layout.dir)) await this.ops.fsyncDir(path.dirname(this.layout.dir));
      let created = false;
      for (const state of ACTION_STATES) created = (await this.ops.mkdirp(this.layout.stateDir(state))) || created;
      if (created) await this.ops.fsyncDir(this.layout.dir);
      const report = await repairActions({ ops: this.ops, layout: this.layout, log: this.log, now: this.clock.now() });
      this.quarantinedCount += report.quarantined;
      return report;
    });
  }

  /** What `actions/quarantine/` holds (moved there by this process or an earlier one), oldest first. */
  async quarantined(): Promise<QuarantinedActionFile[]> {
    return this.io('quarantined', async () =>
      (await listQuarantine(this.ops, this.layout)).map((q) => ({ ...q, problem: this.quarantineProblems.get(q.file) ?? q.problem })),
    );
  }

  async get(id: string): Promise<Action | null> {
    assertActionId(id);
    return this.io(`get ${id}`, async () => {
      // A concurrent transition may move the file between locate and read: look again.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const state = (await this.locate(id)).at(-1);
        if (!state) return null;
        const action = await this.readIn(state, id, false);
        if (action !== 'missing') return action;
      }
      return null;
    });
  }

  async list(state?: ActionState): Promise<Action[]> {
    const states = state === undefined ? ACTION_STATES : [ActionState.parse(state)];
    return this.io('list', async () => {
      const byId = new Map<string, Action>();
      for (const s of states) {
        for (const name of await this.ops.readdir(this.layout.stateDir(s))) {
          const id = idOfFileName(name);
          if (!id) continue;
          const action = await this.readIn(s, id, false);
          if (action === 'missing') continue;
          const seen = byId.get(id);
          if (!seen || stateRank(action.state) > stateRank(seen.state)) byId.set(id, action);
        }
      }
      return [...byId.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    });
  }

  async archived(opts: { since: Date; states: readonly ActionState[] }): Promise<Action[]> {
    const since = opts.since.getTime();
    const states = opts.states.map((s) => ActionState.parse(s));
    return this.io('archived', async () => {
      const cache = new Map<string, Action | null>();
      const out: { endedAt: number; action: Action }[] = [];
      for (const state of states) {
        const dir = this.layout.stateDir(state);
        for (const name of await this.ops.readdir(dir)) {
          const arch = archiveOfFileName(name);
          if (!arch || arch.endedAt < since) continue;
          const file = path.join(dir, name);
          let action = this.archiveCache.get(file);
          if (action === undefined) {
            const read = await readActionFile(this.ops, file, arch.id);
            if (read.kind === 'missing') continue;
            if (read.kind === 'corrupt') this.log.warn({ file, problem: read.problem }, 'skipping unreadable archived action');
            action = read.kind === 'ok' ? { ...read.action, state } : null;
          }
          cache.set(file, action);
          if (action) out.push({ endedAt: arch.endedAt, action });
        }
      }
      this.archiveCache = cache;
      return out.sort((a, b) => a.endedAt - b.endedAt || a.action.id.localeCompare(b.action.id)).map((x) => x.action);
    });
  }

  async create(action: Action): Promise<'created' | 'exists'> {
    assertActionId(action?.id);
    const valid = validAction(action, `action ${action.id}`);
    if (valid.state !== 'pending') throw new InvalidActionError(`action ${valid.id}: a new action must be pending, not ${valid.state}`);
    return this.mutex.run(valid.id, () =>
      this.io(`create ${valid.id}`, async () => {
        const states: ActionState[] = [];
        // An unreadable copy is moved aside here, so it never blocks the id (docs/actions.md, "Unreadable action files").
        for (const s of await this.locate(valid.id)) if ((await this.readIn(s, valid.id, true)) !== 'missing') states.push(s);
        if (states.some((s) => LIVE.includes(s))) return 'exists';
        for (const s of states.filter((t) => TERMINAL_STATES.includes(t))) {
          const archived = await archiveActionFile(this.ops, this.layout, s, valid.id, this.clock.now());
          this.log.info({ id: valid.id, archived }, 'archived the previous action with this id');
        }
        await writeAtomic(this.ops, this.layout.file('pending', valid.id), encodeAction(valid));
        return 'created';
      }),
    );
  }

  async transition(id: string, from: ActionState, to: ActionState, update: (a: Action) => Action): Promise<Action> {
    assertActionId(id);
    const f = ActionState.safeParse(from);
    const t = ActionState.safeParse(to);
    if (!f.success || !t.success || !ACTION_TRANSITIONS[f.data].includes(t.data)) {
      throw new ActionStoreError('invalid_transition', `action ${id}: ${String(from)} → ${String(to)} is not an allowed transition`);
    }
    return this.mutex.run(id, () => this.io(`transition ${id}`, () => this.move(id, f.data, t.data, update)));
  }

  /**
   * One durable step (docs/actions.md, "States"): the new content is written
   * into the target folder first, so every visible `<state>/<id>.json` always
   * holds the content of its folder. Claim (a hard link only one caller can
   * create) → read → new content to a temp file in the target folder, fsync →
   * rename into place, fsync the folder → remove the old file and the claim,
   * fsync the old folder. A crash leaves the old file, or both (repair removes
   * the old copy), never content that lags its folder.
   */
  private async move(id: string, from: ActionState, to: ActionState, update: (a: Action) => Action): Promise<Action> {
    const source = this.layout.file(from, id);
    const claim = this.layout.claimFile(from, id);
    try {
      await this.ops.link(source, claim);
    } catch (err) {
      if (isNotFound(err)) throw await this.missingError(id, from);
      if (isExists(err)) throw new ActionStoreError('conflict', `action ${id} is being moved out of ${from} by another transition`);
      // E.g. a directory named `<id>.json` (no hard links to those): reading it moves it aside.
      if ((await this.readIn(from, id, true)) === 'missing') throw await this.missingError(id, from);
      throw err;
    }
    let placed = false;
    try {
      const current = await this.mustRead(id, from);
      // Built and validated before anything is written, so a bad update moves nothing.
      const next = this.apply(current, to, update);
      const target = this.layout.file(to, id);
      if (await this.ops.exists(target)) {
        // Only a terminal leftover can sit there (create() archives those); keep it as history.
        const archived = await archiveActionFile(this.ops, this.layout, to, id, this.clock.now());
        this.log.warn({ id, archived }, 'a stale file occupied the target state; archived it');
      }
      await writeAtomic(this.ops, target, encodeAction(next));
      placed = true;
      await this.ops.unlink(source);
      await this.ops.unlink(claim);
      await this.ops.fsyncDir(this.layout.stateDir(from));
      return next;
    } catch (err) {
      // Before the new file is in place the old one is the action: free it for the next try.
      if (!placed) await this.ops.unlink(claim).catch(() => undefined);
      throw err;
    }
  }

  async update(id: string, state: ActionState, update: (a: Action) => Action): Promise<Action> {
    assertActionId(id);
    const s = ActionState.parse(state);
    return this.mutex.run(id, () =>
      this.io(`update ${id}`, async () => {
        const next = this.apply(await this.mustRead(id, s), s, update);
        await writeAtomic(this.ops, this.layout.file(s, id), encodeAction(next));
        return next;
      }),
    );
  }

  /** States whose folder holds `<id>.json`, earliest first. */
  private async locate(id: string): Promise<ActionState[]> {
    const found: ActionState[] = [];
    for (const s of ACTION_STATES) if (await this.ops.exists(this.layout.file(s, id))) found.push(s);
    return found;
  }

  /**
   * The action in `state`, with the folder's state (the truth). An entry that
   * cannot be read is moved to the quarantine and reads as 'missing'; `locked`
   * says whether the caller holds the id's mutex (else it is taken for the move).
   */
  private async readIn(state: ActionState, id: string, locked: boolean): Promise<Action | 'missing'> {
    const read = await readActionFile(this.ops, this.layout.file(state, id), id);
    if (read.kind === 'missing') return 'missing';
    if (read.kind === 'corrupt') {
      if (locked) await this.quarantine(state, id, read.problem);
      else await this.mutex.run(id, () => this.quarantineIfUnreadable(state, id));
      return 'missing';
    }
    return read.action.state === state ? read.action : { ...read.action, state };
  }

  /** Checks again under the id's mutex: a concurrent call may have moved it already. */
  private async quarantineIfUnreadable(state: ActionState, id: string): Promise<void> {
    const read = await readActionFile(this.ops, this.layout.file(state, id), id);
    if (read.kind === 'corrupt') await this.quarantine(state, id, read.problem);
  }

  private async quarantine(state: ActionState, id: string, problem: string): Promise<void> {
    const moved = await quarantineEntry({ ops: this.ops, layout: this.layout, log: this.log, now: this.clock.now() }, state, `${id}.json`, problem);
    if (!moved) return;
    this.quarantinedCount += 1;
    this.quarantineProblems.set(moved.file, problem);
  }

  private async mustRead(id: string, state: ActionState): Promise<Action> {
    const action = await this.readIn(state, id, true);
    if (action === 'missing') throw await this.missingError(id, state);
    return action;
  }

  private async missingError(id: string, expected: ActionState): Promise<ActionStoreError> {
    const actual = (await this.locate(id)).at(-1);
    return actual ? new ActionStoreError('conflict', `action ${id} is ${actual}, not ${expected}`) : new ActionStoreError('not_found', `no action ${id}`);
  }

  private apply(current: Action, state: ActionState, update: (a: Action) => Action): Action {
    const draft: Action = { ...current, state, updatedAt: this.clock.now().toISOString() };
    // The id and the state are the store's to decide, whatever the update returns.
    return validAction({ ...update(draft), id: current.id, state }, `action ${current.id}`);
  }

  /** Everything that is not already a store or validation error is an I/O failure. */
  private async io<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ActionStoreError || err instanceof InvalidActionError) throw err;
      throw new ActionStoreError('io', `${what}: ${(err as Error).message}`, { cause: err });
    }
  }
}
