import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { homelabMcpServer } from './serve';

/** What `GET /api/world?at=` answers (WorldAtView). */
const WORLD = { at: '2026-12-06T08:00:00.000Z', basedOn: null, applied: 0, services: {}, nodes: {} };

/** A stand-in hub: its OpenAPI document says whether `/api/world` takes `at`; `/api/world` answers `worldStatus`. */
async function standInHub(opts: { takesAt: boolean; worldStatus: number }) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/api/openapi.json') {
      return res.end(JSON.stringify({ paths: { '/api/world': { get: { parameters: opts.takesAt ? [{ name: 'at', in: 'query' }] : [] } } } }));
    }
    res.statusCode = opts.worldStatus;
    res.end(JSON.stringify(opts.worldStatus === 200 ? WORLD : { error: 'invalid_request', message: 'at: before the first event' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

describe('the world_at tool', () => {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  const callWorldAt = async (hubUrl: string, at: string) => {
    const server = homelabMcpServer(hubUrl, 'hlv_token');
    const client = new Client({ name: 'unit', version: '1.0.0' });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    open.push(client, server);
    return (await client.callTool({ name: 'world_at', arguments: { at } })) as { isError?: boolean; content: { text: string }[]; structuredContent?: unknown };
  };

  it.each([
    { name: 'asks the hub for the instant when its /api/world takes `at`', takesAt: true, worldStatus: 200, error: false, text: /"services"/ },
    {
      name: 'does not pass the present off as the past when the hub has no `at`',
      takesAt: false,
      worldStatus: 200,
      error: true,
      text: /not supported by this hub/,
    },
    {
      name: 'says the hub cannot answer for that instant on a 400',
      takesAt: true,
      worldStatus: 400,
      error: true,
      text: /not supported by this hub for .*before the first event/,
    },
    { name: 'says the hub cannot answer for that instant on a 404', takesAt: true, worldStatus: 404, error: true, text: /not supported by this hub/ },
  ])('$name', async ({ takesAt, worldStatus, error, text }) => {
    const hub = await standInHub({ takesAt, worldStatus });
    open.push(hub);
    const at = '2026-12-06T08:00:00.000Z';
    const r = await callWorldAt(hub.url, at);
    expect(Boolean(r.isError)).toBe(error);
    expect(r.content[0]?.text).toMatch(text);
    if (!error) expect(r.structuredContent).toEqual({ ...WORLD, at });
    expect(hub.seen.some((s) => s.startsWith(`/api/world?at=${encodeURIComponent(at)} Bearer hlv_token`))).toBe(takesAt);
  });
});
