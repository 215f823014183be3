import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '@homelab/hub';
import { freePort, makeTempDir, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { bearer, homelab, REPO_ROOT, writeHosts } from '../support/stack';

/**
 * Upgrade without loss (docs/upgrade.md): the real `homelab hub` started on a
 * data root written by the hub before data roots carried a layout version
 * (test/fixtures/data-root-v1, layout 1: action files without a version)
 * upgrades it to the current layout and keeps every event, action, audit
 * entry and the world; a root marked by a newer version is refused with the
 * file and its version named, and not one byte of it changes.
 */
const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/data-root-v1');
const PIHA = 'node: piha\nservices:\n  svc-0:\n    containers: [svc-0]\n  svc-1:\n    containers: [svc-1]\n';

/** Every file under `dir` with its bytes (relative path → text). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = await fs.readFile(path.join(e.parentPath, e.name), 'utf8');
  return out;
}
const jsonIn = (t: Record<string, string>, rel: string) => JSON.parse(t[rel]!);

describe('upgrading a data root written by an older hub', () => {
  let tmp: TempDir;
  let root: string;
  let hostsDir: string;
  let fixture: Record<string, string>;

  const startHub = async (name: string, at = root): Promise<{ proc: LoggedProcess; url: string }> => {
    const httpPort = await freePort();
    const args = ['hub', '--root', at, '--hosts', hostsDir, '--http-port', String(httpPort), '--mqtt-port', String(await freePort())];
    return { proc: homelab(args, { name, env: { LOG_LEVEL: 'info' } }), url: `http://127.0.0.1:${httpPort}` };
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-upgrade-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: PIHA });
    await fs.cp(FIXTURE, root, { recursive: true });
    fixture = await tree(FIXTURE);
  });
  afterAll(() => tmp?.cleanup());

  it('keeps every event, action, audit entry and the world, and marks the root with the current layout', async () => {
    const token = await addToken(root, 'upgrade-test', 'viewer');
    const hub = await startHub('upgrade-hub');
    try {
      await hub.proc.waitForOutput('hub running', 60_000);
      expect(hub.proc.output()).toContain('data root upgraded: action files carry their format version');
      const get = async (p: string) => (await fetch(`${hub.url}${p}`, { headers: bearer(token, false) })).json() as Promise<any>;

      // Actions: each in the state it had, with every audit entry it had (a pending one may gain later ones).
      const actions = new Map<string, any>((await get('/api/actions')).actions.map((a: any) => [a.id, a]));
      for (const rel of Object.keys(fixture).filter((r) => r.startsWith('actions/'))) {
        const before = jsonIn(fixture, rel);
        const now = actions.get(before.id);
        expect(now, rel).toBeDefined();
        if (before.state === 'pending') expect(now.audit.slice(0, before.audit.length)).toEqual(before.audit);
        else expect(now).toEqual(before);
      }

      // Events: every stored event served, and every log file still starts with its old bytes.
      const served = new Set((await get('/api/events?limit=1000')).events.map((e: any) => e.event?.id ?? e.id));
      for (const rel of Object.keys(fixture).filter((r) => r.endsWith('.jsonl'))) {
        for (const line of fixture[rel]!.split('\n').filter(Boolean)) expect(served.has(JSON.parse(line).event.id), line.slice(0, 80)).toBe(true);
        expect((await fs.readFile(path.join(root, 'events', path.relative('events', rel)), 'utf8')).startsWith(fixture[rel]!)).toBe(true);
      }

      // World: the services and nodes of the old world, as they were folded.
      const world = await get('/api/world');
      const oldServices = jsonIn(fixture, 'world/services.json').services;
      for (const [key, s] of Object.entries<any>(oldServices))
        expect(world.services[key], key).toMatchObject({ status: s.status, reason: s.reason, lastSeq: s.lastSeq, lastEventId: s.lastEventId });
      expect(Object.keys(world.nodes)).toEqual(Object.keys(jsonIn(fixture, 'world/nodes.json').nodes));
    } finally {
      await hub.proc.stop();
    }

    const after = await tree(root);
    expect(jsonIn(after, 'layout.json')).toMatchObject({ version: 2, migrations: [{ from: 1, to: 2 }] });
    for (const rel of Object.keys(fixture).filter((r) => r.startsWith('actions/completed/') || r.startsWith('actions/rejected/')))
      expect(jsonIn(after, rel)).toEqual({ version: 1, ...jsonIn(fixture, rel) });
    // Web users and MQTT identities: the same, the token added above aside.
    expect(jsonIn(after, 'auth/auth.json').users).toEqual(jsonIn(fixture, 'auth/auth.json').users);
    expect(jsonIn(after, 'state/mqtt-credentials.json')).toEqual(jsonIn(fixture, 'state/mqtt-credentials.json'));
  });

  it.each([
    ['layout.json', 'data root layout', { version: 99, writtenBy: '9.0.0', migrations: [] }],
    ['actions/rejected/container-restart-piha-svc-1.json', 'action', null],
  ])('refuses to start when %s was written by a newer version, naming the file and its version, and changes nothing', async (rel, kind, content) => {
    // A copy of the upgraded root per case, with one file from the future.
    const copy = path.join(tmp.path, kind.replace(/ /g, '-'));
    await fs.cp(root, copy, { recursive: true });
    const file = path.join(copy, rel);
    const json = content ?? { ...JSON.parse(await fs.readFile(file, 'utf8')), version: 99 };
    await fs.writeFile(file, JSON.stringify(json, null, 2));
    const { version } = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const before = await tree(copy);
    const hub = await startHub(`upgrade-hub-newer-${path.basename(copy)}`, copy);
    // A hub that starts anyway fails here at once rather than at a timeout.
    const outcome = await Promise.race([hub.proc.exited, hub.proc.waitForOutput('hub running', 60_000).then(() => 'started')]);
    if (outcome === 'started') await hub.proc.stop();
    expect(outcome).toBe(1);
    expect(hub.proc.output()).toContain(`${file}: ${kind} format version 99; homelab ${version} reads up to`);
    expect(await tree(copy)).toEqual(before);
  });
});
