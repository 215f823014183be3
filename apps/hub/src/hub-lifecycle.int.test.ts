import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Aedes } from 'aedes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { lockPath } from '@homelab/event-log';
import { createLogger } from '@homelab/logging';
import { canConnect, freePort, makeTempDir, sleep, waitFor, type TempDir } from '@homelab/testkit';
import { HubConfig } from './config';
import { startHub } from './hub';
import { action } from './supervisor/test-fixtures';

/**
 * The hub's own lifecycle on real parts (docs/hub-lifecycle.md): a start that
 * fails half-way stops what it had started (the broker's port is free again,
 * the root lock released), and stop waits for the executor's cycle in
 * progress before it releases the root lock.
 */
const log = createLogger('test', { level: 'silent' });
let tmp: TempDir;
let root: string;
let hostsDir: string;

beforeEach(async () => {
  tmp = await makeTempDir('hub-lifecycle');
  root = path.join(tmp.path, 'root');
  hostsDir = path.join(tmp.path, 'hosts');
  await fs.mkdir(hostsDir, { recursive: true });
});
afterEach(() => tmp.cleanup());

const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );

/** True when this process can listen on the port (nothing else holds it). */
const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

describe('a hub start that fails half-way', () => {
  it.each([
    ['the action store cannot initialise', 'actions is a file', (r: string) => fs.writeFile(path.join(r, 'actions'), 'not a folder')],
    ['the observer cannot initialise', 'world/services.json is a folder', (r: string) => fs.mkdir(path.join(r, 'world', 'services.json'), { recursive: true })],
  ])('closes the embedded broker and releases the root lock when %s (%s)', async (_what, _how, breakRoot) => {
    await fs.mkdir(root, { recursive: true });
    await breakRoot(root);
    const mqttPort = await freePort();
    const config = HubConfig.parse({ root, hostsDir, mqttPort, httpPort: 0 });

    await expect(startHub(config, log)).rejects.toThrow();

    expect(await canConnect(mqttPort)).toBe(false);
    expect(await portIsFree(mqttPort)).toBe(true);
    expect(await exists(lockPath(root))).toBe(false);
  });
});

describe('stopping the hub', () => {
  it('waits for the executor cycle in progress: nothing is written after stop resolved and the lock is released last', async () => {
    // A real broker whose acceptance of commands the test controls: the first command is held until the gate opens.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let commandsSeen = 0;
    const broker = await Aedes.createBroker({
      authorizePublish(_client, packet, done) {
        if (!packet.topic.endsWith('/commands')) return done(null);
        commandsSeen++;
        void gate.then(() => done(null));
      },
    });
    const server = net.createServer(broker.handle);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      // Many approved actions, so the cycle has work left once the first command is through.
      const store = new FsActionStore({ root, log });
      await store.init();
      const ids = Array.from({ length: 40 }, (_, i) => `container-restart-piha-svc${i}`);
      for (const id of ids) {
        await store.create(action(id, { service: id.slice('container-restart-piha-'.length) }));
        await store.transition(id, 'pending', 'approved', (a) => a);
      }
      const config = HubConfig.parse({ root, hostsDir, mqttUrl: `mqtt://127.0.0.1:${port}`, httpPort: 0, executorIntervalMs: 50 });
      const hub = await startHub(config, log);
      await waitFor(() => commandsSeen > 0, { timeoutMs: 10_000, what: 'the first command at the broker' });

      let lockHeldWhenStopped: boolean | null = null;
      const stopped = hub.stop().then(async () => void (lockHeldWhenStopped = await exists(lockPath(root))));
      await sleep(100);
      expect(await exists(lockPath(root))).toBe(true); // the cycle is still going: the lock stays
      open();
      await stopped;
      expect(lockHeldWhenStopped).toBe(false);

      const files = async () => (await fs.readdir(path.join(root, 'actions', 'running'))).filter((f) => f.endsWith('.json')).sort();
      const atStop = await files();
      // The cycle ended before stop resolved: every approved action was claimed, and nothing moves later.
      expect(atStop).toEqual(ids.map((id) => `${id}.json`).sort());
      await sleep(500);
      expect(await files()).toEqual(atStop);
      expect(await fs.readdir(path.join(root, 'actions', 'approved'))).toEqual([]);
      expect(commandsSeen).toBe(ids.length);
    } finally {
      open();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
