import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mirrorOnce, parseInterval } from './mirror';

const world = {
  services: { 'piha/zigbee2mqtt': { node: 'piha', service: 'zigbee2mqtt', status: 'healthy' } },
  nodes: { piha: { node: 'piha', online: true } },
};

/** A stand-in hub: answers /api/world and /summary when the token matches. */
async function fakeHub(token: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end('{}');
    const body = req.url === '/api/world' ? world : req.url === '/summary' ? { generatedAt: 'x', services: [] } : null;
    if (!body) return void res.writeHead(404).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('homelab mirror', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });
  const tmp = async () => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-mirror-'));
    dirs.push(d);
    return d;
  };
  const read = async (f: string) => JSON.parse(await fs.readFile(f, 'utf8'));

  it('copies world state into the folder in the hub files’ shape', async () => {
    const hub = await fakeHub('tok');
    const to = await tmp();
    const status = await mirrorOnce({ from: hub.url, to, token: 'tok' }, null);
    await hub.close();
    expect(status.ok).toBe(true);
    expect(await read(path.join(to, 'world/services.json'))).toEqual({ version: 1, services: world.services });
    expect(await read(path.join(to, 'world/nodes.json'))).toEqual({ version: 1, nodes: world.nodes });
    expect((await read(path.join(to, 'summary.json'))).generatedAt).toBe('x');
    expect((await fs.readdir(path.join(to, 'world'))).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('keeps the last good copy and records the error while the hub is down', async () => {
    const hub = await fakeHub('tok');
    const to = await tmp();
    const first = await mirrorOnce({ from: hub.url, to, token: 'tok' }, null);
    await hub.close();
    const second = await mirrorOnce({ from: hub.url, to, token: 'tok', timeoutMs: 2000 }, first.lastSuccess);
    expect(second.ok).toBe(false);
    expect(second.error).toMatch(/fetch failed|ECONNREFUSED/);
    expect(second.lastSuccess).toBe(first.lastSuccess);
    expect(await read(path.join(to, 'world/services.json'))).toEqual({ version: 1, services: world.services });
    expect(await read(path.join(to, 'mirror-status.json'))).toMatchObject({ ok: false, lastSuccess: first.lastSuccess });
  });

  it('says a token is needed when the hub answers 401, and writes no world files', async () => {
    const hub = await fakeHub('tok');
    const to = await tmp();
    const status = await mirrorOnce({ from: hub.url, to, token: 'wrong' }, null);
    await hub.close();
    expect(status.error).toMatch(/401.*token/);
    await expect(fs.access(path.join(to, 'world/services.json'))).rejects.toThrow();
  });

  it('reads intervals like 10s, 500ms and 2m', () => {
    expect(parseInterval('10s')).toBe(10_000);
    expect(parseInterval('500ms')).toBe(500);
    expect(parseInterval('2m')).toBe(120_000);
    expect(parseInterval('5')).toBe(5000);
    expect(() => parseInterval('soon')).toThrow(/not an interval/);
  });
});
