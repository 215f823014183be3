import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyWorld, type World } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { fold } from './fold';
import { ev, stored } from './test-events';
import { loadWorld, NODES_FILE, renderWorld, SERVICES_FILE, WORLD_DIR, writeWorld } from './world-files';

// A variable, not `.constructor`: TypeScript would type that as Object's Function.
const CTOR: string = 'constructor';
const log = createLogger('world-files-test', { level: 'silent' });
let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'world-files-'));
});
afterEach(() => fs.rm(root, { recursive: true, force: true }));

function sample(): World {
  const w = emptyWorld();
  for (const e of [
    ev.unhealthy('piha', 1, 'z2m', 'probe_failed', 'HTTP 500'),
    ev.disk('piha', 2, '/', 'high'),
    ev.heartbeat('constructor', 1),
    ev.disk('constructor', 2, 'constructor', 'warn'),
  ]) {
    fold(w, stored(e), { aliases: {} });
  }
  return w;
}

describe('world files', () => {
  it('render deterministic bytes: sorted keys, 2-space JSON, trailing newline, whatever the build order', () => {
    const a = renderWorld(sample());
    const reversed: World = { folded: sample().folded!, nodes: Object.fromEntries(Object.entries(sample().nodes).reverse()), services: sample().services };
    expect(renderWorld(reversed)).toEqual(a);
    expect(a.services.endsWith('}\n')).toBe(true);
    expect(a.services.startsWith('{\n  "folded": {')).toBe(true);
  });

  it('load back exactly what was written, names colliding with Object.prototype included', async () => {
    const world = sample();
    await writeWorld(root, world);
    const loaded = await loadWorld(root, log);
    expect(loaded).not.toBeNull();
    expect(renderWorld(loaded!)).toEqual(renderWorld(world));
    expect(Object.hasOwn(loaded!.nodes[CTOR]!.disks, 'constructor')).toBe(true);
  });

  it('load nothing (empty start) when files are missing, invalid, or from different writes', async () => {
    expect(await loadWorld(root, log)).toBeNull();
    await writeWorld(root, sample());
    const dir = path.join(root, WORLD_DIR);
    const services = await fs.readFile(path.join(dir, SERVICES_FILE), 'utf8');

    await fs.writeFile(path.join(dir, SERVICES_FILE), '{"version":1,');
    expect(await loadWorld(root, log)).toBeNull();

    await fs.writeFile(path.join(dir, SERVICES_FILE), services.replace('"piha": 2', '"piha": 1'));
    expect(await loadWorld(root, log)).toBeNull();

    await fs.writeFile(path.join(dir, SERVICES_FILE), services);
    await fs.rm(path.join(dir, NODES_FILE));
    expect(await loadWorld(root, log)).toBeNull();
  });
});
