import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HUB_STREAM, ManualClock } from '@homelab/contracts';
import { compressOldDays, FsEventLog, FsEventLogReader } from '@homelab/event-log';
import { createLogger } from '@homelab/logging';
import { checkpointPath, loadCheckpoint } from './checkpoint';
import { foldPath } from './fold-state';
import { Observer, replay } from './observer';
import { ev } from './test-events';
import { NODES_FILE, renderWorld, SERVICES_FILE, WORLD_DIR } from './world-files';

const log = createLogger('observer-retention-test', { level: 'silent' });

let root: string;
let eventLog: FsEventLog;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'observer-retention-'));
  eventLog = new FsEventLog({ root, log });
  await eventLog.open();
});
afterEach(async () => {
  await eventLog.close();
  await fs.rm(root, { recursive: true, force: true });
});

const observer = () => new Observer({ root, reader: new FsEventLogReader({ root, log, committed: eventLog }), clock: new ManualClock(), log, aliases: {} });
const onDay = (day: number) => new Date(`2026-03-0${day}T12:00:00.000Z`);

async function worldBytes(): Promise<string> {
  const dir = path.join(root, WORLD_DIR);
  return (await fs.readFile(path.join(dir, SERVICES_FILE), 'utf8')) + (await fs.readFile(path.join(dir, NODES_FILE), 'utf8'));
}

async function appendDay(day: number): Promise<void> {
  const s = day * 10;
  await eventLog.append(
    'piha',
    [
      ev.unhealthy('piha', s, 'z2m', 'probe_failed'),
      ev.disk('piha', s + 1, '/', day % 2 ? 'high' : 'ok'),
      ev.healthy('piha', s + 2, 'z2m', { heartbeat: true }),
    ],
    onDay(day),
  );
  await eventLog.append(HUB_STREAM, [ev.status('piha', day, true, day)], onDay(day));
}

describe('Observer and retention', () => {
  it('resumes from a checkpoint that points into a day compressed since, applying each event once', async () => {
    const obs = observer();
    await obs.init();
    await appendDay(1);
    await obs.runOnce();
    const cp = await loadCheckpoint(root, log);
    expect(cp!.streams.piha!.file).toBe('2026-03-01/piha.jsonl');

    for (const day of [2, 3, 4]) await appendDay(day);
    const report = await compressOldDays(root, { olderThanDays: 1, now: new Date('2026-03-10T00:00:00.000Z'), log });
    expect(report.compressed.sort()).toEqual(['2026-03-01/_hub.jsonl', '2026-03-01/piha.jsonl', '2026-03-02/_hub.jsonl', '2026-03-02/piha.jsonl']);

    const restarted = observer();
    await restarted.init();
    expect((await restarted.runOnce()).applied).toBe(3 * 4); // days 2..4: 3 piha events + 1 status each
    expect((await loadCheckpoint(root, log))!.streams.piha!.file).toBe('2026-03-04/piha.jsonl');
    const incremental = await worldBytes();

    await fs.rm(checkpointPath(root));
    await fs.rm(foldPath(root));
    const full = observer();
    await full.init();
    expect((await full.runOnce()).applied).toBe(4 * 4);
    expect(await worldBytes()).toBe(incremental);
  });

  it('replays a compressed log into world files identical to those of the plain log', async () => {
    for (const day of [1, 2, 3, 4, 5]) await appendDay(day);
    const plain = await replay(root, { aliases: {}, log });
    const plainBytes = await worldBytes();
    const report = await compressOldDays(root, { olderThanDays: 1, now: new Date('2026-03-10T00:00:00.000Z') });
    expect(report.compressed).toHaveLength(6);

    const compressed = await replay(root, { aliases: {}, log });
    expect(compressed).toMatchObject({ applied: plain.applied, skipped: 0, corruptLines: 0 });
    expect(renderWorld(compressed.world)).toEqual(renderWorld(plain.world));
    expect(await worldBytes()).toBe(plainBytes);
  });
});
