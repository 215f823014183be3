import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HomelabEvent } from '@homelab/contracts';
import { FsEventLog, inspectRootLock, lockPath, readQuarantine } from '@homelab/event-log';
import { formatSummary, replayCommand, type CommandIo } from './replay';

let root: string;
let hosts: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-replay-'));
  hosts = path.join(root, 'hosts');
  await fs.mkdir(path.join(hosts, 'piha'), { recursive: true });
  await fs.writeFile(path.join(hosts, 'piha', 'services.yaml'), 'node: piha\nservices:\n  z2m: {}\n');
});
afterEach(() => fs.rm(root, { recursive: true, force: true }));

const healthy = (seq: number, service: string): HomelabEvent => ({
  id: `piha-${seq}`,
  node: 'piha',
  seq,
  ts: '2026-03-01T10:00:00.000Z',
  type: 'service_healthy',
  service,
});

async function writeLog(): Promise<void> {
  const log = new FsEventLog({ root });
  await log.open();
  await log.append('piha', [healthy(1, 'z2m'), healthy(2, 'ha')], new Date('2026-03-01T10:00:00.000Z'));
  await log.append('piha', [healthy(3, 'ha')], new Date('2026-03-01T13:00:00.000Z'));
  await log.close();
  // A corrupt line in the middle of the file.
  const file = path.join(root, 'events/2026-03-01/piha.jsonl');
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  lines.splice(1, 0, '{"torn": ');
  await fs.writeFile(file, lines.join('\n'));
}

function io(): CommandIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { isTTY: false, write: (s: string) => err.push(s) },
    env: { LOG_LEVEL: 'silent' },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('homelab replay', () => {
  it('rebuilds the world files with the hub settings, quarantines corrupt lines, reports progress and a summary, and frees the lock', async () => {
    await writeLog();
    const t = io();
    expect(await replayCommand(['--root', root, '--hosts', hosts], t)).toBe(0);
    expect(t.out()).toMatch(/events applied\s+3\n/);
    expect(t.out()).toMatch(/skipped duplicates\s+0\n/);
    expect(t.out()).toMatch(/corrupt lines\s+1 \(skipped; copies in events\/quarantine\/, 1 new\)/);
    expect(t.out()).toMatch(/services\s+2\n/); // z2m is 3 h stale but desired: kept
    expect(t.out()).toMatch(/rate\s+[\d,]+ events\/s/);
    expect(t.err()).toMatch(/^replay: 3 events \(100%\), [\d,]+ events\/s, file 2026-03-01\/piha\.jsonl\n$/m);
    const services = JSON.parse(await fs.readFile(path.join(root, 'world/services.json'), 'utf8')).services;
    expect(Object.keys(services).sort()).toEqual(['piha/ha', 'piha/z2m']);
    expect(await readQuarantine(root, '2026-03-01', 'piha')).toHaveLength(1);
    expect(await inspectRootLock(root)).toEqual({ status: 'free' });
  });

  it('prunes a stale service that is not desired', async () => {
    await writeLog();
    await fs.writeFile(path.join(hosts, 'piha', 'services.yaml'), 'node: piha\nservices:\n  ha: {}\n');
    const t = io();
    expect(await replayCommand(['--root', root, '--hosts', hosts], t)).toBe(0);
    expect(t.out()).toMatch(/services\s+1 \(\+1 pruned as ghosts\)/);
  });

  it('refuses to run while a live hub holds the data root, unless --force', async () => {
    await writeLog();
    const hub = spawn('sleep', ['30']);
    try {
      await fs.mkdir(path.join(root, 'state'), { recursive: true });
      await fs.writeFile(lockPath(root), JSON.stringify({ pid: hub.pid, host: os.hostname(), owner: 'hub', startedAt: '2026-03-01T00:00:00.000Z' }));
      const refused = io();
      expect(await replayCommand(['--root', root, '--hosts', hosts], refused)).toBe(1);
      expect(refused.err()).toMatch(new RegExp(`in use by hub pid ${hub.pid}.*\\n.*--force`));
      await expect(fs.stat(path.join(root, 'world'))).rejects.toThrow();

      const forced = io();
      expect(await replayCommand(['--root', root, '--hosts', hosts, '--force'], forced)).toBe(0);
      expect(forced.err()).toMatch(/--force: ignoring the lock/);
      expect(JSON.parse(await fs.readFile(lockPath(root), 'utf8')).pid).toBe(hub.pid); // the hub's lock is left alone
    } finally {
      hub.kill();
    }
  });

  it('refuses a data root a newer version wrote, naming the file and its version, and rewrites nothing', async () => {
    await writeLog();
    const services = path.join(root, 'world/services.json');
    await fs.mkdir(path.dirname(services));
    await fs.writeFile(services, JSON.stringify({ version: 7, services: {} }));
    const t = io();
    expect(await replayCommand(['--root', root, '--hosts', hosts], t)).toBe(1);
    expect(t.err()).toContain(`${services}: world services format version 7`);
    expect(await fs.readFile(services, 'utf8')).toBe(JSON.stringify({ version: 7, services: {} }));
    expect(await fs.readdir(path.join(root, 'world'))).toEqual(['services.json']);
  });

  it('says so when the data root has no event log', async () => {
    const t = io();
    expect(await replayCommand(['--root', path.join(root, 'typo'), '--hosts', hosts], t)).toBe(1);
    expect(t.err()).toMatch(/no event log at .*typo\/events; check --root/);
  });

  it('formats the summary with aligned rows', () => {
    const text = formatSummary({
      root: '/opt/homelab',
      applied: 1_000_000,
      skipped: 2,
      corrupt: 0,
      quarantined: 0,
      streams: 3,
      nodes: 3,
      services: 40,
      prunedNodes: 1,
      prunedServices: 0,
      elapsedMs: 2000,
    });
    expect(text).toBe(
      [
        'replay of /opt/homelab done; world files rewritten',
        '  events applied      1,000,000',
        '  skipped duplicates  2',
        '  corrupt lines       0',
        '  streams             3',
        '  nodes               3 (+1 pruned as ghosts)',
        '  services            40',
        '  elapsed             2.00 s',
        '  rate                500,001 events/s',
        '',
      ].join('\n'),
    );
  });
});
