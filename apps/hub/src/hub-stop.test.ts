import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Action, type Command } from '@homelab/contracts';
import { FsActionStore, type ActionStore } from '@homelab/action-store';
import { createLogger } from '@homelab/logging';
import { StartedParts } from '@homelab/runtime';
import { flushTurns, gate, isSettled, makeTempDir, type TempDir } from '@homelab/testkit';
import { Executor } from './executor';
import { Supervisor } from './supervisor';
import { action, inventoried, unhealthy, world, worldNode } from './supervisor/test-fixtures';

/**
 * Stopping the hub (docs/hub-lifecycle.md): every loop's stop waits for the
 * cycle in progress, and the root lock is released only after that, so no
 * cycle writes to a data root the hub no longer holds.
 */
const log = createLogger('test', { level: 'silent' });
let tmp: TempDir;
let clock: ManualClock;
let store: FsActionStore;

/** Names and modification times of every action file: "nothing written" means this stays equal. */
async function snapshot(): Promise<string[]> {
  const dir = path.join(tmp.path, 'actions');
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(`${path.relative(dir, path.join(e.parentPath, e.name))}@${(await fs.stat(path.join(e.parentPath, e.name))).mtimeMs}`);
  }
  return out.sort();
}

/** The real store, with `create` held at a gate once `holdCreate` is set. */
function blockingStore(inner: ActionStore, hold: { gate: Promise<void> | null; entered: () => void }): ActionStore {
  return {
    init: () => inner.init(),
    get: (id) => inner.get(id),
    list: (state) => inner.list(state),
    create: async (a: Action) => {
      if (hold.gate) {
        hold.entered();
        await hold.gate;
      }
      return inner.create(a);
    },
    transition: (id, from, to, update) => inner.transition(id, from, to, update),
    update: (id, state, update) => inner.update(id, state, update),
  };
}

beforeEach(async () => {
  tmp = await makeTempDir('hub-stop');
  clock = new ManualClock('2026-11-26T15:00:00.000Z');
  store = new FsActionStore({ root: tmp.path, clock });
  await store.init();
});
afterEach(() => tmp.cleanup());

/**
 * A supervisor over a node whose service is down, whose store holds the
 * proposal's write at a gate: `inCreate` opens when the cycle is about to
 * write, `g.open()` lets the write through.
 */
async function heldSupervisor(): Promise<{ supervisor: Supervisor; g: ReturnType<typeof gate>; inCreate: ReturnType<typeof gate> }> {
  const hostsDir = path.join(tmp.path, 'hosts');
  await fs.mkdir(path.join(hostsDir, 'piha'), { recursive: true });
  await fs.writeFile(path.join(hostsDir, 'piha', 'services.yaml'), 'node: piha\nservices:\n  zigbee2mqtt: {}\n');
  const g = gate();
  const inCreate = gate();
  const held = blockingStore(store, { gate: g.opened, entered: inCreate.open });
  const sick = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running')]);
  const supervisor: Supervisor = new Supervisor({ hostsDir, store: held, world: () => inventoried(sick, supervisor.desired()), clock, log, aliases: {} });
  return { supervisor, g, inCreate };
}

describe('Supervisor.stop', () => {
  it('waits for a cycle held in the store, and writes nothing after it resolved', async () => {
    const { supervisor, g, inCreate } = await heldSupervisor();
    supervisor.start(1000);
    clock.advance(1000);
    await inCreate.opened; // the cycle is about to write its proposal

    const stopped = supervisor.stop();
    expect(await isSettled(stopped)).toBe(false);
    g.open();
    await stopped;
    const after = await snapshot();
    expect(after.some((f) => f.startsWith('pending/container-restart-piha-zigbee2mqtt.json@'))).toBe(true);
    clock.advance(60_000);
    await flushTurns();
    expect(await snapshot()).toEqual(after);
  });
});

describe('Executor.stop', () => {
  it('waits for a cycle held in sending a command, and writes nothing after it resolved', async () => {
    for (const id of ['container-restart-piha-zigbee2mqtt', 'container-restart-piha-mosquitto']) {
      await store.create(action(id, { service: id.split('-').at(-1)! }));
      await store.transition(id, 'pending', 'approved', (a) => a);
    }
    const g = gate();
    const inSend = gate();
    const sent: Command[] = [];
    const executor = new Executor({
      store,
      clock,
      log,
      // A broker that takes the first command and answers only when the test opens the gate.
      publishCommand: async (cmd) => {
        inSend.open();
        await g.opened;
        sent.push(cmd);
      },
    });
    executor.start(1000);
    clock.advance(1000);
    await inSend.opened;

    const stopped = executor.stop();
    expect(await isSettled(stopped)).toBe(false);
    g.open();
    await stopped;
    // The whole cycle ran before stop resolved: both claimed and sent.
    expect(sent.map((c) => c.actionId).sort()).toEqual(['container-restart-piha-mosquitto', 'container-restart-piha-zigbee2mqtt']);
    const after = await snapshot();
    expect(after.filter((f) => f.startsWith('running/'))).toHaveLength(2);
    clock.advance(10 * 60_000);
    await flushTurns();
    expect(await snapshot()).toEqual(after);
  });

  it('waits for a result being recorded', async () => {
    const id = 'container-restart-piha-zigbee2mqtt';
    await store.create(action(id));
    await store.transition(id, 'pending', 'approved', (a) => a);
    const g = gate();
    const inGet = gate();
    const slow: ActionStore = {
      ...blockingStore(store, { gate: null, entered: () => undefined }),
      get: async (x) => (inGet.open(), await g.opened, store.get(x)),
    };
    const executor = new Executor({ store: slow, clock, log, publishCommand: async () => undefined });
    await executor.runOnce();
    const at = clock.now().toISOString();
    const recorded = executor.handleResult({ actionId: id, node: 'piha', status: 'completed', startedAt: at, finishedAt: at, output: '' });
    await inGet.opened;
    const stopped = executor.stop();
    expect(await isSettled(stopped)).toBe(false);
    g.open();
    await stopped;
    expect(await recorded).toBe('applied');
    expect((await store.get(id))?.state).toBe('completed');
  });
});

describe('StartedParts', () => {
  it('releases the lock only after the supervisor cycle in progress has written', async () => {
    const { supervisor, g, inCreate } = await heldSupervisor();
    const parts = new StartedParts('hub');
    let filesAtRelease: string[] | null = null;
    parts.add('root lock', async () => void (filesAtRelease = await snapshot()));
    supervisor.start(1000);
    parts.add('supervisor', () => supervisor.stop());
    clock.advance(1000);
    await inCreate.opened;

    const stopped = parts.closeAll(log);
    expect(await isSettled(stopped)).toBe(false);
    expect(filesAtRelease).toBeNull();
    g.open();
    await stopped;
    expect(filesAtRelease).toEqual(await snapshot());
    expect(filesAtRelease!.some((f) => f.startsWith('pending/container-restart-piha-zigbee2mqtt.json@'))).toBe(true);
  });
});
