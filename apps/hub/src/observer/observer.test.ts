import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HUB_STREAM, ManualClock, type HomelabEvent } from '@homelab/contracts';
import { FsEventLog, FsEventLogReader } from '@homelab/event-log';
import { createLogger } from '@homelab/logging';
import { checkpointPath } from './checkpoint';
import { foldPath } from './fold-state';
import { Observer, replay } from './observer';
import { at, ev } from './test-events';
import { NODES_FILE, SERVICES_FILE, WORLD_DIR } from './world-files';

const log = createLogger('observer-test', { level: 'silent' });
const aliases = { 'node-1': 'piha' };

let root: string;
let eventLog: FsEventLog;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'observer-'));
  eventLog = new FsEventLog({ root, log });
  await eventLog.open();
});
afterEach(async () => {
  await eventLog.close();
  await fs.rm(root, { recursive: true, force: true });
});

function observer(extra: Partial<ConstructorParameters<typeof Observer>[0]> = {}) {
  return new Observer({ root, reader: new FsEventLogReader({ root, log, committed: eventLog }), clock: new ManualClock(), log, aliases, ...extra });
}

async function append(stream: string, events: HomelabEvent[], day = 1) {
  return eventLog.append(stream, events, new Date(`2026-03-0${day}T12:00:00.000Z`));
}

async function worldBytes(): Promise<string> {
  const dir = path.join(root, WORLD_DIR);
  return (await fs.readFile(path.join(dir, SERVICES_FILE), 'utf8')) + (await fs.readFile(path.join(dir, NODES_FILE), 'utf8'));
}

/** Several rounds across three streams, two days and both a hub and agent restarts. */
const rounds: [string, HomelabEvent[], number][][] = [
  [
    ['piha', [ev.healthy('piha', 1, 'z2m'), ev.heartbeat('piha', 2, { uptimeSec: 10 })], 1],
    [HUB_STREAM, [ev.status('piha', 1, true, 1)], 1],
  ],
  [
    ['node-1', [ev.unhealthy('node-1', 1, 'mosquitto', 'probe_failed')], 1],
    ['piha', [ev.unhealthy('piha', 3, 'z2m', 'container_unhealthy', 'exit 1'), ev.disk('piha', 4, '/', 'high', 97)], 1],
    [HUB_STREAM, [ev.status('chelsty-ha', 2, true, 7), ev.status('piha', 3, false, 1)], 1],
  ],
  [
    ['piha', [ev.unhealthy('piha', 5, 'z2m', 'restart_loop'), ev.recovered('piha', 6, 'z2m'), ev.disk('piha', 7, '/', 'ok', 50)], 2],
    ['chelsty-ha', [ev.docker('chelsty-ha', 1, false), ev.healthy('chelsty-ha', 2, 'ha')], 2],
    [HUB_STREAM, [ev.status('piha', 4, true, 2)], 2],
  ],
];

describe('Observer', () => {
  it('incremental runs and a replay from zero write byte-identical world files', async () => {
    const obs = observer();
    await obs.init();
    for (const round of rounds) {
      for (const [stream, events, day] of round) await append(stream, events, day);
      await obs.runOnce();
    }
    const incremental = await worldBytes();
    // since: seq 6's ts in the hub's time (corrected by the offset measured from piha's events).
    const offsetMs = obs.world().nodes.piha!.clocks!.piha!.offsetMs;
    expect(JSON.parse(incremental.split('\n}\n')[0] + '\n}').services['piha/z2m']).toMatchObject({
      status: 'healthy',
      since: new Date(Date.parse(at(6)) - offsetMs).toISOString(),
    });

    // Deleting checkpoint, fold state and world forces a full replay.
    await fs.rm(path.join(root, WORLD_DIR), { recursive: true });
    await fs.rm(foldPath(root));
    await fs.rm(checkpointPath(root));
    const fresh = observer();
    await fresh.init();
    expect((await fresh.runOnce()).applied).toBe(14);
    expect(await worldBytes()).toBe(incremental);

    // Deleting only the checkpoint also replays, into the same bytes.
    const cpBytes = await fs.readFile(checkpointPath(root), 'utf8');
    await fs.rm(checkpointPath(root));
    const again = observer();
    await again.init();
    expect((await again.runOnce()).applied).toBe(14);
    expect(await worldBytes()).toBe(incremental);

    const res = await replay(root, { aliases, log });
    expect(res).toMatchObject({ applied: 14, skipped: 0, streams: 4, corruptLines: 0 });
    expect(await worldBytes()).toBe(incremental);
    expect(await fs.readFile(checkpointPath(root), 'utf8')).toBe(cpBytes);
  });

  it('resumes after a restart and applies each event once', async () => {
    const obs = observer();
    await obs.init();
    for (const [stream, events, day] of rounds[0]!) await append(stream, events, day);
    expect((await obs.runOnce()).applied).toBe(3);
    expect((await obs.runOnce()).applied).toBe(0);

    for (const [stream, events, day] of rounds[1]!) await append(stream, events, day);
    const restarted = observer();
    await restarted.init();
    expect((await restarted.runOnce()).applied).toBe(5);
    expect(restarted.world().nodes.piha).toMatchObject({ online: false, lastSeq: 4 });
  });

  it('applies nothing twice after a crash between the world write and the checkpoint write', async () => {
    const obs = observer();
    await obs.init();
    for (const [stream, events, day] of rounds[0]!) await append(stream, events, day);
    await obs.runOnce();
    const oldCheckpoint = await fs.readFile(checkpointPath(root), 'utf8');
    for (const [stream, events, day] of rounds[1]!) await append(stream, events, day);
    await obs.runOnce();
    const world = await worldBytes();
    // As if the process died after renaming the world files but before the checkpoint.
    await fs.writeFile(checkpointPath(root), oldCheckpoint);

    const restarted = observer();
    await restarted.init();
    expect((await restarted.runOnce()).applied).toBe(0);
    expect(await worldBytes()).toBe(world);
    expect(restarted.world().services['piha/z2m']!.problemEventIds).toEqual(['piha-3']);
  });

  it('rewrites world files that were damaged or come from different writes, from the fold state, without replaying', async () => {
    const obs = observer();
    await obs.init();
    for (const [stream, events, day] of rounds[0]!) await append(stream, events, day);
    await obs.runOnce();
    const oldServices = await fs.readFile(path.join(root, WORLD_DIR, SERVICES_FILE), 'utf8');
    for (const [stream, events, day] of rounds[1]!) await append(stream, events, day);
    await obs.runOnce();
    const world = await worldBytes();
    await fs.writeFile(path.join(root, WORLD_DIR, SERVICES_FILE), oldServices);
    await fs.writeFile(path.join(root, WORLD_DIR, NODES_FILE), '{"version":1,"nodes":{"piha":{"online":"yes"}}}');

    const restarted = observer();
    await restarted.init();
    expect((await restarted.runOnce()).applied).toBe(0);
    expect(await worldBytes()).toBe(world);
  });

  it('replays from zero when the fold state is older than the checkpoint, or invalid', async () => {
    const obs = observer();
    await obs.init();
    for (const [stream, events, day] of rounds[0]!) await append(stream, events, day);
    await obs.runOnce();
    const oldFold = await fs.readFile(foldPath(root), 'utf8');
    for (const [stream, events, day] of rounds[1]!) await append(stream, events, day);
    await obs.runOnce();
    const world = await worldBytes();

    await fs.writeFile(foldPath(root), oldFold);
    const restarted = observer();
    await restarted.init();
    expect((await restarted.runOnce()).applied).toBe(8);
    expect(await worldBytes()).toBe(world);

    await fs.writeFile(foldPath(root), '{"version":1,"nodes":{"piha":{"online":"yes"}}}');
    const again = observer();
    await again.init();
    expect((await again.runOnce()).applied).toBe(8);
    expect(await worldBytes()).toBe(world);
  });

  it('orders by seq and file, not by skewed or backwards agent timestamps', async () => {
    const obs = observer();
    await obs.init();
    await append('piha', [ev.unhealthy('piha', 1, 'z2m', 'probe_failed', undefined, '2026-03-01T18:00:00.000Z')]);
    await append('piha', [ev.healthy('piha', 2, 'z2m', { ts: '2026-03-01T07:00:00.000Z' })]);
    await append('piha', [ev.heartbeat('piha', 3)]);
    expect((await obs.runOnce()).applied).toBe(3);
    // since is in the hub's time: seq 2's ts corrected by the offset measured so far (seq 1 read 6 h ahead of its receipt).
    expect(obs.world().services['piha/z2m']).toMatchObject({ status: 'healthy', since: '2026-03-01T01:00:00.000Z', lastSeq: 2 });
    expect(obs.world().nodes.piha).toMatchObject({ lastSeq: 3, lastSeen: '2026-03-01T12:00:00.000Z' });
  });

  it('tells onViewChanged of a new view before its files are written, and onChange once they are', async () => {
    const seen: string[] = [];
    const filesHold = () => {
      try {
        return String(Object.keys((JSON.parse(readFileSync(path.join(root, WORLD_DIR, SERVICES_FILE), 'utf8')) as { services: object }).services).length);
      } catch {
        return 'nothing';
      }
    };
    const obs = observer({
      onViewChanged: (w) => seen.push(`view of ${Object.keys(w.services).length}, files hold ${filesHold()}`),
      onChange: (w) => seen.push(`change of ${Object.keys(w.services).length}, files hold ${filesHold()}`),
    });
    await obs.init();
    await append('piha', [ev.healthy('piha', 1, 'z2m')]);
    await obs.runOnce();
    await append('piha', [ev.healthy('piha', 2, 'ha')]);
    await obs.runOnce();
    await obs.runOnce(); // nothing new: neither is called
    expect(seen).toEqual(['view of 1, files hold nothing', 'change of 1, files hold 1', 'view of 2, files hold 1', 'change of 2, files hold 2']);
  });

  it('folds the first commit after a quiet spell at once, without waiting for the kick delay', async () => {
    const clock = new ManualClock();
    const changes: number[] = [];
    const obs = observer({ clock, kickDelayMs: 50, onChange: (w) => changes.push(Object.keys(w.services).length) });
    await obs.init();
    await append('piha', [ev.healthy('piha', 1, 'z2m')]);
    obs.kick();
    clock.advance(0); // the clock never reaches the delay
    await vi.waitFor(() => expect(changes).toEqual([1]));
    await obs.stop();
  });

  it('kick coalesces into one run on the injected clock; start/stop schedule runs that never overlap', async () => {
    const clock = new ManualClock();
    const changes: number[] = [];
    const obs = observer({ clock, kickDelayMs: 5, onChange: (w) => changes.push(Object.keys(w.services).length) });
    await obs.init();
    await append('piha', [ev.healthy('piha', 1, 'z2m')]);
    obs.kick();
    obs.kick();
    clock.advance(5);
    await obs.runOnce(); // queued behind the kicked run: waits for it
    expect(changes).toEqual([1]);

    obs.start(1000);
    await append('piha', [ev.healthy('piha', 2, 'ha')]);
    clock.advance(1000);
    await obs.runOnce();
    expect(changes).toEqual([1, 2]);
    await obs.stop();
    await append('piha', [ev.healthy('piha', 3, 'x')]);
    obs.kick();
    clock.advance(5000);
    await obs.stop();
    expect(changes).toEqual([1, 2]);
  });

  it('folds every kicked run but writes the view again only after three times what the last writing cost', async () => {
    const clock = new ManualClock();
    const changes: number[] = [];
    // Writing the view "costs" 100 ms of the injected clock: the change callback is part of it.
    const obs = observer({ clock, kickDelayMs: 5, onChange: (w) => (changes.push(Object.keys(w.services).length), clock.advance(100)) });
    await obs.init();
    await append('piha', [ev.healthy('piha', 1, 'a')]);
    obs.kick();
    clock.advance(5);
    await vi.waitFor(() => expect(changes).toEqual([1]));

    // Within the 300 ms cooldown: folded, not written.
    await append('piha', [ev.healthy('piha', 2, 'b')]);
    obs.kick();
    clock.advance(5);
    await vi.waitFor(() => expect(Object.keys(obs.foldedWorld().services)).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 50));
    expect(changes).toEqual([1]);
    expect(JSON.parse((await worldBytes()).split('\n}\n')[0] + '\n}').services['piha/b']).toBeUndefined();

    // When the cooldown ends, a run writes what was folded meanwhile, without another kick.
    clock.advance(300);
    clock.advance(5);
    await vi.waitFor(() => expect(changes).toEqual([1, 2]));

    // runOnce() always writes the view, cooldown or not.
    await append('piha', [ev.healthy('piha', 3, 'c')]);
    await obs.runOnce();
    expect(changes).toEqual([1, 2, 3]);
    await obs.stop();
  });
});
