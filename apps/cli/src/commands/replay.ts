import fs from 'node:fs/promises';
import path from 'node:path';
import { acquireRootLock, inspectRootLock, logInventory, quarantineCorruptLines, type RootLock } from '@homelab/event-log';
import { findNewerFiles, formatProblems, loadDesired, newerFilesMessage, replay, resolveHubConfig } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse } from '../args';
import { formatCount, formatDuration, ProgressReporter, ratePerSec, type ProgressOutput, type ProgressState } from '../progress';

export const REPLAY_USAGE = `Usage: homelab replay [--root <dir>] [--hosts <dir>] [--force]

Rebuilds world/services.json and world/nodes.json, and the observer's fold and
checkpoint in state/, from the whole event log, with the hub's settings
(NODE_ALIAS_MAP, HOMELAB_SERVICE_TTL_MS, HOMELAB_NODE_TTL_MS and the desired
state in --hosts), so the files are byte for byte what the hub would write.
Corrupt lines are first copied to events/quarantine/ (the log is not changed).

Progress goes to stderr (a bar on a terminal, a line every 5 s otherwise),
the summary to stdout. Refuses to run while a hub holds the data root
(state/hub.lock): stop the hub first.

  --root <dir>    data root (default $HOMELAB_ROOT or /opt/homelab)
  --hosts <dir>   desired state folder (default $HOMELAB_HOSTS_DIR or ./hosts)
  --force         run although the lock names a hub; a running hub's observer
                  races with these writes, so only when you know it is gone`;

export interface CommandIo {
  stdout: ProgressOutput;
  stderr: ProgressOutput;
  env: NodeJS.ProcessEnv;
}

const processIo = (): CommandIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

export async function replayCommand(argv: string[], io: CommandIo = processIo()): Promise<number> {
  const { values } = parse(argv, { root: { type: 'string' }, hosts: { type: 'string' }, force: { type: 'boolean' } } as const);
  if (values.help) {
    io.stdout.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  const config = resolveHubConfig({ root: values.root, hosts: values.hosts }, io.env);
  const root = config.root;
  // A mistyped --root must not grow an empty world next to nothing.
  if (!(await fs.stat(path.join(root, 'events')).catch(() => null))?.isDirectory()) {
    io.stderr.write(`homelab replay: no event log at ${path.join(root, 'events')}; check --root (HOMELAB_ROOT)\n`);
    return 1;
  }
  const log = createLogger('replay', { level: io.env.LOG_LEVEL ?? 'warn' });
  // It rewrites the world and the checkpoint: never in a root a newer version wrote (docs/upgrade.md).
  const newer = await findNewerFiles(root);
  if (newer.length) {
    io.stderr.write(`homelab replay: ${newerFilesMessage(newer, 'replay')}\n`);
    return 1;
  }

  let lock: RootLock | null = null;
  const holder = await inspectRootLock(root);
  if (holder.status === 'held' || holder.status === 'foreign') {
    if (!values.force) {
      io.stderr.write(
        `homelab replay: the data root is in use by ${holder.why}.\n` +
          `Stop the hub first. If no hub uses ${root} any more (it was killed, or the lock is from another machine), rerun with --force.\n`,
      );
      return 1;
    }
    io.stderr.write(`homelab replay: --force: ignoring the lock of ${holder.why}\n`);
  } else {
    lock = await acquireRootLock(root, { owner: 'replay', log });
  }
  try {
    return await run(root, config, log, io);
  } finally {
    await lock?.release();
  }
}

async function run(root: string, config: ReturnType<typeof resolveHubConfig>, log: ReturnType<typeof createLogger>, io: CommandIo): Promise<number> {
  const quarantine = await quarantineCorruptLines(root, { log });
  const loaded = await loadDesired(config.hostsDir, {}, log);
  if (loaded.problems.length > 0) {
    io.stderr.write(`homelab replay: desired state has problems; those hosts count as not desired for ghost pruning:\n${formatProblems(loaded.problems)}\n`);
  }
  const inventory = await logInventory(root);
  const progress = new ProgressReporter(io.stderr, { label: 'replay' });
  const state: ProgressState = { events: 0, bytesDone: 0, bytesTotal: inventory.bytes, file: null };
  let doneBefore = 0;
  let current = { file: '', offset: 0 };
  const result = await replay(
    root,
    { aliases: config.aliases, log, ttl: { serviceTtlMs: config.serviceTtlMs, nodeTtlMs: config.nodeTtlMs }, desired: loaded.desired, progressEvery: 10_000 },
    (p) => {
      // Files are read one after the other: a new file means the previous one is done.
      if (p.file !== current.file) doneBefore += current.offset;
      current = { file: p.file, offset: p.offset };
      Object.assign(state, { events: p.applied + p.skipped, bytesDone: doneBefore + p.offset, file: p.file });
      progress.update(state);
    },
  );
  const elapsed = progress.elapsedMs();
  progress.finish({ ...state, events: result.applied + result.skipped, bytesDone: inventory.bytes });
  io.stdout.write(
    formatSummary({
      root,
      applied: result.applied,
      skipped: result.skipped,
      corrupt: result.corruptLines ?? 0,
      quarantined: quarantine.quarantined,
      streams: result.streams,
      nodes: Object.keys(result.world.nodes).length,
      services: Object.keys(result.world.services).length,
      prunedNodes: result.pruned.nodes.length,
      prunedServices: result.pruned.services.length,
      elapsedMs: elapsed,
    }),
  );
  return 0;
}

export interface ReplaySummary {
  root: string;
  applied: number;
  skipped: number;
  corrupt: number;
  /** Of the corrupt lines, those copied to the quarantine by this run (the others were already there). */
  quarantined: number;
  streams: number;
  nodes: number;
  services: number;
  prunedNodes: number;
  prunedServices: number;
  elapsedMs: number;
}

/** Pure: the closing summary, aligned for people. */
export function formatSummary(s: ReplaySummary): string {
  const events = s.applied + s.skipped;
  const rows: [string, string][] = [
    ['events applied', formatCount(s.applied)],
    ['skipped duplicates', formatCount(s.skipped)],
    ['corrupt lines', `${formatCount(s.corrupt)}${s.corrupt > 0 ? ` (skipped; copies in events/quarantine/, ${formatCount(s.quarantined)} new)` : ''}`],
    ['streams', formatCount(s.streams)],
    ['nodes', `${formatCount(s.nodes)}${s.prunedNodes > 0 ? ` (+${formatCount(s.prunedNodes)} pruned as ghosts)` : ''}`],
    ['services', `${formatCount(s.services)}${s.prunedServices > 0 ? ` (+${formatCount(s.prunedServices)} pruned as ghosts)` : ''}`],
    ['elapsed', formatDuration(s.elapsedMs)],
    ['rate', `${formatCount(ratePerSec(events, s.elapsedMs))} events/s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `replay of ${s.root} done; world files rewritten\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}
