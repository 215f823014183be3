import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type HomelabEvent } from '@homelab/contracts';
import { FsEventLog, FsEventLogReader } from '@homelab/event-log';
import { createLogger } from '@homelab/logging';
import { checkpointPath } from './checkpoint';
import { foldPath } from './fold-state';
import { Observer, replay } from './observer';
import type { DesiredView } from './prune';
import { ev } from './test-events';
import { NODES_FILE, SERVICES_FILE, WORLD_DIR } from './world-files';

const log = createLogger('observer-ghosts-test', { level: 'silent' });

let root: string;
let eventLog: FsEventLog;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'observer-ghosts-'));
  eventLog = new FsEventLog({ root, log });
  await eventLog.open();
});
afterEach(async () => {
  await eventLog.close();
  await fs.rm(root, { recursive: true, force: true });
});

function observer(extra: Partial<ConstructorParameters<typeof Observer>[0]> = {}) {
  return new Observer({ root, reader: new FsEventLogReader({ root, log, committed: eventLog }), clock: new ManualClock(), log, aliases: {}, ...extra });
}

/** Received at `hour` hours after 2026-03-01T00:00Z. */
const append = (stream: string, events: HomelabEvent[], hour: number) =>
  eventLog.append(stream, events, new Date(Date.parse('2026-03-01T00:00:00.000Z') + hour * 3_600_000));

async function worldBytes(): Promise<string> {
  const dir = path.join(root, WORLD_DIR);
  return (await fs.readFile(path.join(dir, SERVICES_FILE), 'utf8')) + (await fs.readFile(path.join(dir, NODES_FILE), 'utf8'));
}

/** Fresh replay of the whole log (checkpoint and fold deleted): the bytes it writes. */
async function replayBytes(aliases: Record<string, string> = {}, desired?: DesiredView): Promise<string> {
  await fs.rm(checkpointPath(root));
  await fs.rm(foldPath(root));
  await replay(root, { aliases, log, ...(desired ? { desired } : {}) });
  return worldBytes();
}

describe('Observer ghost pruning', () => {
  it('drops a service its node stopped reporting from the view only, and folds its return exactly as a replay does', async () => {
    const obs = observer();
    await obs.init();
    await append('piha', [ev.healthy('piha', 1, 'z2m'), ev.healthy('piha', 2, 'ha')], 0);
    await append('piha', [ev.healthy('piha', 3, 'ha', { heartbeat: true })], 2); // z2m silent for 2 h
    await obs.runOnce();
    expect(Object.keys(obs.world().services)).toEqual(['piha/ha']);
    expect(JSON.parse(await fs.readFile(path.join(root, WORLD_DIR, SERVICES_FILE), 'utf8')).services).not.toHaveProperty(['piha/z2m']);
    expect(Object.keys(obs.foldedWorld().services).sort()).toEqual(['piha/ha', 'piha/z2m']);

    // A hub restart in between, then z2m is back, still healthy: its occurrence goes on (since = seq 1's).
    const since = obs.foldedWorld().services['piha/z2m']!.since;
    const restarted = observer();
    await restarted.init();
    await append('piha', [ev.healthy('piha', 4, 'z2m')], 3);
    await restarted.runOnce();
    expect(restarted.world().services['piha/z2m']).toMatchObject({ since, lastSeq: 4 });
    const incremental = await worldBytes();
    expect(await replayBytes()).toBe(incremental);
  });

  it('drops a node silent for longer than the node TTL, measured against the newest event of the world', async () => {
    const obs = observer({ ttl: { serviceTtlMs: 3_600_000, nodeTtlMs: 24 * 3_600_000 } });
    await obs.init();
    await append('old-name', [ev.healthy('old-name', 1, 'z2m')], 0);
    await append('piha', [ev.healthy('piha', 1, 'z2m')], 20);
    await obs.runOnce();
    expect(Object.keys(obs.world().nodes).sort()).toEqual(['old-name', 'piha']);
    await append('piha', [ev.healthy('piha', 2, 'z2m', { heartbeat: true }), ev.heartbeat('piha', 3)], 25);
    await obs.runOnce();
    expect(Object.keys(obs.world().nodes)).toEqual(['piha']);
    expect(Object.keys(obs.world().services)).toEqual(['piha/z2m']);
  });

  it('keeps desired services, and rewrites the world files when the desired state changes, without new events', async () => {
    let desired: DesiredView = { piha: { services: { z2m: {} } } };
    const changes: string[][] = [];
    const obs = observer({ desired: () => desired, onChange: (w) => changes.push(Object.keys(w.services).sort()) });
    await obs.init();
    await append('piha', [ev.healthy('piha', 1, 'z2m'), ev.healthy('piha', 2, 'ha')], 0);
    await append('piha', [ev.healthy('piha', 3, 'ha', { heartbeat: true })], 2);
    await obs.runOnce();
    expect(changes).toEqual([['piha/ha', 'piha/z2m']]);
    expect(await replayBytes({}, desired)).toBe(await worldBytes());

    desired = { piha: { services: { ha: {} } } };
    expect((await obs.runOnce()).applied).toBe(0);
    expect(changes).toEqual([['piha/ha', 'piha/z2m'], ['piha/ha']]);
    expect(JSON.parse(await fs.readFile(path.join(root, WORLD_DIR, SERVICES_FILE), 'utf8')).services).not.toHaveProperty(['piha/z2m']);
    await obs.runOnce();
    expect(changes).toHaveLength(2); // nothing changed: no write, no call
  });

  it('prunes nothing while the desired state is not loaded yet (null), so a desired service never looks missing', async () => {
    let desired: DesiredView | null = null;
    const obs = observer({ desired: () => desired });
    await obs.init();
    await append('piha', [ev.healthy('piha', 1, 'z2m'), ev.healthy('piha', 2, 'ha')], 0);
    await append('piha', [ev.healthy('piha', 3, 'ha', { heartbeat: true })], 2);
    await obs.runOnce();
    expect(Object.keys(obs.world().services).sort()).toEqual(['piha/ha', 'piha/z2m']);
    desired = {};
    await obs.runOnce();
    expect(Object.keys(obs.world().services)).toEqual(['piha/ha']);
  });

  it('replays from zero when NODE_ALIAS_MAP changed since the checkpoint, so a renamed node leaves no entry under its old name', async () => {
    const before = observer();
    await before.init();
    await append('node-1', [ev.unhealthy('node-1', 1, 'mosquitto', 'probe_failed'), ev.heartbeat('node-1', 2)], 0);
    await append('piha', [ev.healthy('piha', 1, 'z2m')], 0);
    await before.runOnce();
    expect(Object.keys(before.world().nodes).sort()).toEqual(['node-1', 'piha']);

    const aliases = { 'node-1': 'piha' };
    const after = observer({ aliases });
    await after.init();
    expect((await after.runOnce()).applied).toBe(3);
    expect(Object.keys(after.world().nodes)).toEqual(['piha']);
    expect(Object.keys(after.world().services).sort()).toEqual(['piha/mosquitto', 'piha/z2m']);
    const renamed = await worldBytes();
    expect(Object.keys(JSON.parse(renamed.split('\n}\n')[1]! + '\n}').nodes)).toEqual(['piha']);

    // Same map again (keys in another order hash the same): resumes, nothing replayed.
    const again = observer({ aliases: { ...aliases } });
    await again.init();
    expect((await again.runOnce()).applied).toBe(0);
    expect(await replayBytes(aliases)).toBe(renamed);
  });
});
