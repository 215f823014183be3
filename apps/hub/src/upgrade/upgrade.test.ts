import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOMELAB_VERSION } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { HubError } from '../errors';
import { refuseNewerDataRoot } from './check-root';
import { LAYOUT_FILE, LAYOUT_VERSION, UNMARKED_LAYOUT } from './layout-file';
import { MIGRATIONS } from './migrations';
import { upgradeDataRoot } from './upgrade-root';

/** A data root written by the hub before layout.json existed (layout 1), see docs/upgrade.md. */
const FIXTURE = path.resolve(import.meta.dirname, '../../../../test/fixtures/data-root-v1');
const ACTION_FILES = [
  'actions/completed/disk-cleanup-piha.json',
  'actions/pending/container-restart-piha-svc-0.json',
  'actions/rejected/container-restart-piha-svc-1.json',
];
const log = createLogger('upgrade-test', { level: 'silent' });
const now = () => new Date('2026-12-07T08:00:00.000Z');

let root: string;
beforeEach(async () => {
  root = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'upgrade-')), 'root');
  await fs.cp(FIXTURE, root, { recursive: true });
});
afterEach(() => fs.rm(path.dirname(root), { recursive: true, force: true }));

/** Every file of the root: its bytes and modification time. */
async function snapshot(dir: string): Promise<Record<string, { text: string; mtimeMs: number }>> {
  const out: Record<string, { text: string; mtimeMs: number }> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out[path.relative(dir, full)] = { text: await fs.readFile(full, 'utf8'), mtimeMs: (await fs.stat(full)).mtimeMs };
  }
  return out;
}
const texts = (s: Record<string, { text: string }>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.text]));
const readJson = async (rel: string) => JSON.parse(await fs.readFile(path.join(root, rel), 'utf8'));

describe('upgrading a data root', () => {
  it('brings a layout-1 root to the current layout: action files gain their version, every other file stays byte for byte', async () => {
    const before = texts(await snapshot(root));
    const report = await upgradeDataRoot(root, { log, now });

    expect(report).toMatchObject({ from: UNMARKED_LAYOUT, to: LAYOUT_VERSION, steps: [{ from: 1, to: 2, changed: 3, skipped: 0 }] });
    const after = texts(await snapshot(root));
    expect(Object.keys(after).sort()).toEqual([...Object.keys(before), LAYOUT_FILE].sort());
    for (const rel of Object.keys(before)) {
      if (ACTION_FILES.includes(rel)) expect(JSON.parse(after[rel]!)).toEqual({ version: 1, ...JSON.parse(before[rel]!) });
      else expect(after[rel], rel).toBe(before[rel]);
    }
    expect(await readJson(LAYOUT_FILE)).toEqual({
      version: LAYOUT_VERSION,
      writtenBy: HOMELAB_VERSION,
      migrations: [{ from: 1, to: 2, at: now().toISOString(), by: HOMELAB_VERSION }],
    });
  });

  it('finishes an upgrade cut short by a crash: some action files stamped, no layout.json yet', async () => {
    await upgradeDataRoot(root, { log, now });
    const done = texts(await snapshot(root));
    await fs.rm(path.join(root, LAYOUT_FILE));
    const unstamped = JSON.parse(done[ACTION_FILES[0]!]!) as Record<string, unknown>;
    delete unstamped.version;
    await fs.writeFile(path.join(root, ACTION_FILES[0]!), JSON.stringify(unstamped, null, 2) + '\n');

    const report = await upgradeDataRoot(root, { log, now });

    expect(report.steps).toMatchObject([{ changed: 1, skipped: 0 }]);
    expect(texts(await snapshot(root))).toEqual(done);
  });

  it('writes nothing on a later start of the same version', async () => {
    await upgradeDataRoot(root, { log, now });
    const before = await snapshot(root);
    expect(await upgradeDataRoot(root, { log, now })).toEqual({ from: LAYOUT_VERSION, to: LAYOUT_VERSION, steps: [] });
    expect(await snapshot(root)).toEqual(before);
  });

  it('gives a fresh root its layout.json and nothing else', async () => {
    const fresh = path.join(path.dirname(root), 'fresh');
    await upgradeDataRoot(fresh, { log, now });
    expect(Object.keys(await snapshot(fresh))).toEqual([LAYOUT_FILE]);
  });

  it('leaves an action file that is not a valid action byte for byte as it was', async () => {
    const bad = path.join(root, 'actions/pending/redeploy-piha-svc-1.json');
    await fs.writeFile(bad, '{"id": "redeploy-piha-svc-1", "state": "pend');
    const report = await upgradeDataRoot(root, { log, now });
    expect(report.steps).toMatchObject([{ changed: 3, skipped: 1 }]);
    expect(await fs.readFile(bad, 'utf8')).toBe('{"id": "redeploy-piha-svc-1", "state": "pend');
  });

  it('refuses an unreadable layout.json and leaves it as it is', async () => {
    await fs.writeFile(path.join(root, LAYOUT_FILE), '{"version": ');
    const before = await snapshot(root);
    await expect(upgradeDataRoot(root, { log, now })).rejects.toThrow(/layout\.json cannot be read/);
    expect(await snapshot(root)).toEqual(before);
  });

  it('has one step per layout, from layout 1 up to the current one', () => {
    expect(MIGRATIONS.map((m) => m.from)).toEqual(Array.from({ length: LAYOUT_VERSION - UNMARKED_LAYOUT }, (_, i) => UNMARKED_LAYOUT + i));
  });
});

describe('a data root written by a newer version', () => {
  it.each([
    [LAYOUT_FILE, 'data root layout', { version: LAYOUT_VERSION + 1, writtenBy: '9.0.0', migrations: [] }],
    ['world/services.json', 'world services', null],
    ['world/nodes.json', 'world nodes', null],
    ['state/observer_checkpoint.json', 'observer checkpoint', null],
    ['state/observer_fold.json', 'observer fold', null],
    ['auth/auth.json', 'web users and tokens', null],
    ['state/mqtt-credentials.json', 'MQTT credentials', null],
    ['actions/rejected/container-restart-piha-svc-1.json', 'action', null],
  ])('refuses to start on a newer %s, naming the file and its version, and changes nothing', async (rel, kind, content) => {
    const file = path.join(root, rel);
    const json = content ?? { ...(await readJson(rel)), version: 2 };
    await fs.writeFile(file, JSON.stringify(json));
    const version = json.version as number;
    const before = await snapshot(root);

    const err = await refuseNewerDataRoot(root).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('data_root_newer');
    expect((err as HubError).message).toContain(`${file}: ${kind} format version ${version}; homelab ${HOMELAB_VERSION} reads up to ${version - 1}`);
    expect(await snapshot(root)).toEqual(before);
  });

  it('lets a root of the current layout start', async () => {
    await upgradeDataRoot(root, { log, now });
    await expect(refuseNewerDataRoot(root)).resolves.toBeUndefined();
  });
});
