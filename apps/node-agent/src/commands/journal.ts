import path from 'node:path';
import { z } from 'zod';
import { ActionId, Command, CommandResult, IsoTime } from '@homelab/contracts';
import { ensureDir, readJsonFile, writeJsonAtomic } from '../state/fs-atomic';

/**
 * `<stateDir>/journal/<actionId>.json`: `started` is written (atomically,
 * fsync'ed) before the Docker operation runs, `done` with the result before the
 * result is published. An agent that finds `started` from an earlier process
 * knows it died mid-execution and must not run the command again.
 */
export const JournalEntry = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('started'),
    actionId: ActionId,
    actionCreatedAt: IsoTime.optional(),
    startedAt: IsoTime,
    command: Command,
  }),
  z.object({
    state: z.literal('done'),
    actionId: ActionId,
    actionCreatedAt: IsoTime.optional(),
    result: CommandResult,
  }),
]);
export type JournalEntry = z.infer<typeof JournalEntry>;

export type JournalLookup = { kind: 'none' } | { kind: 'entry'; entry: JournalEntry } | { kind: 'corrupt'; problem: string };

export class CommandJournal {
  constructor(private readonly dir: string) {}

  async init(): Promise<void> {
    await ensureDir(this.dir);
  }

  /** Action ids match ACTION_ID_PATTERN (no dots or slashes), so they are safe file names. */
  fileOf(actionId: string): string {
    return path.join(this.dir, `${ActionId.parse(actionId)}.json`);
  }

  async get(actionId: string): Promise<JournalLookup> {
    const res = await readJsonFile(this.fileOf(actionId), JournalEntry);
    if (res.kind === 'missing') return { kind: 'none' };
    if (res.kind === 'corrupt') return { kind: 'corrupt', problem: res.problem };
    return { kind: 'entry', entry: res.value };
  }

  async markStarted(command: Command, startedAt: string): Promise<void> {
    const entry: JournalEntry = { state: 'started', actionId: command.actionId, actionCreatedAt: command.actionCreatedAt, startedAt, command };
    await writeJsonAtomic(this.fileOf(command.actionId), JournalEntry.parse(entry));
  }

  async complete(result: CommandResult, actionCreatedAt: string | undefined): Promise<void> {
    const entry: JournalEntry = { state: 'done', actionId: result.actionId, actionCreatedAt, result };
    await writeJsonAtomic(this.fileOf(result.actionId), JournalEntry.parse(entry));
  }
}
