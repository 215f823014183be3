import path from 'node:path';
import { ACTION_STATES, ACTION_TRANSITIONS, ActionState, TERMINAL_STATES, systemClock, type Action, type Clock } from '@homelab/contracts';
import { createLogger, type Logger } from '@homelab/logging';
import { archiveActionFile, encodeAction, readActionFile, validAction } from './codec';
import { isNotFound, moveDurable, nodeFsOps, writeAtomic, type FsOps } from './durable';
import { KeyedMutex } from './keyed-mutex';
import { ActionLayout, archiveOfFileName, assertActionId, idOfFileName, stateRank } from './layout';
import { ActionStoreError, InvalidActionError, type ActionStore } from './port';
import { repairActions, type RepairReport } from './repair';

export interface FsActionStoreOptions {
  /** Data root (BRIEF.md "Data root"); actions live under `<root>/actions/`. */
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
  private readonly reportedCorrupt = new Set<string>();
  /** Parsed archives by file (archives never change); only those inside the last `archived()` range are kept. */
  private archiveCache = new Map<string, Action | null>();
  /** Files skipped because their content failed validation (counted on every read). */
  corruptReads = 0;
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
      return repairActions({ ops: this.ops, layout: this.layout, log: this.log, now: this.clock.now() });
    });
  }

  async get(id: string): Promise<Action | null> {
    assertActionId(id);
    return this.io(`get ${id}`, async () => {
      // A concurrent transition may move the file between locate and read: look again.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const state = (await this.locate(id)).at(-1);
        if (!state) return null;
        const action = await this.readIn(state, id);
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
          const action = await this.readIn(s, id);
          if (action === 'missing' || action === null) continue;
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
        const states = await this.locate(valid.id);
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
    return this.mutex.run(id, () =>
      this.io(`transition ${id}`, async () => {
        const current = await this.mustRead(id, from);
        // Built and validated before the claim, so a bad update moves nothing.
        const next = this.apply(current, to, update);
        const target = this.layout.file(to, id);
        if (await this.ops.exists(target)) {
          // Only a terminal leftover can sit there (create() archives those); keep it as history.
          const archived = await archiveActionFile(this.ops, this.layout, to, id, this.clock.now());
          this.log.warn({ id, archived }, 'a stale file occupied the target state; archived it');
        }
        try {
          await moveDurable(this.ops, this.layout.file(from, id), target);
        } catch (err) {
          if (isNotFound(err)) throw await this.missingError(id, from);
          throw err;
        }
        await writeAtomic(this.ops, target, encodeAction(next));
        return next;
      }),
    );
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

  /** The action in `state`, with the folder's state (the truth); null when corrupt (logged, counted). */
  private async readIn(state: ActionState, id: string): Promise<Action | null | 'missing'> {
    const file = this.layout.file(state, id);
    const read = await readActionFile(this.ops, file, id);
    if (read.kind === 'missing') return 'missing';
    if (read.kind === 'corrupt') {
      this.corruptReads += 1;
      const first = !this.reportedCorrupt.has(file);
      this.reportedCorrupt.add(file);
      this.log[first ? 'error' : 'debug']({ file, problem: read.problem }, 'skipping corrupt action file');
      return null;
    }
    return read.action.state === state ? read.action : { ...read.action, state };
  }

  private async mustRead(id: string, state: ActionState): Promise<Action> {
    const action = await this.readIn(state, id);
    if (action === 'missing') throw await this.missingError(id, state);
    if (action === null) throw new ActionStoreError('io', `action ${id} in ${state}/ is corrupt; fix or remove the file`);
    return action;
  }

  private async missingError(id: string, expected: ActionState): Promise<ActionStoreError> {
    const actual = (await this.locate(id)).at(-1);
    return actual
      ? new ActionStoreError('conflict', `action ${id} is ${actual}, not ${expected}`)
      : new ActionStoreError('not_found', `no action ${id}`);
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
