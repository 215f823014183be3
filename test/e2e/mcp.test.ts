import http from 'node:http';
import path from 'node:path';
import Docker from 'dockerode';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { homelab, readJson, REPO_ROOT, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

const CLI = path.join(REPO_ROOT, 'apps/cli/bin/homelab.mjs');
const RESTART = 'container-restart-piha-svc';
const CLEANUP = 'disk-cleanup-piha';

/** fetch cannot set Host; a rebinding browser's request carries the attacker's name in it. */
const postWithHost = (url: string, host: string, token: string) =>
  new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { host, authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('{}');
  });

type ToolAnswer = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: any };
const text = (r: ToolAnswer) => r.content.map((c) => c.text ?? '').join('\n');

/**
 * An assistant's access over MCP (docs/mcp.md), with the SDK's own client,
 * against a real hub and agent on the real engine: a stopped container makes
 * the supervisor propose a restart, whose chain `why` shows; `homelab mcp` is
 * spawned over stdio with a viewer token and served over streamable HTTP where
 * each client brings its own token; `propose` only ever leaves pending actions.
 */
describe('homelab mcp', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const container = `hl-e2e-mcp-${process.pid}`;
  let tmp: TempDir;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let httpServer: LoggedProcess;
  let httpUrl: string;
  const clients: Client[] = [];

  const stdioClient = async (token: string) => {
    const client = new Client({ name: 'e2e-stdio', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'mcp', '--hub', hub.httpUrl, '--token', token],
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
        stderr: 'pipe',
      }),
    );
    clients.push(client);
    return client;
  };
  /** `modern`: the 2026-07-28 protocol; else the 2025 `initialize` handshake most clients still use. */
  const httpClient = async (token: string, era: 'legacy' | 'modern' = 'legacy') => {
    const client = new Client({ name: 'e2e-http', version: '1.0.0' }, era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
    await client.connect(new StreamableHTTPClientTransport(new URL(httpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    clients.push(client);
    return client;
  };
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as ToolAnswer;
  const actionFiles = async () => {
    const out: Record<string, string[]> = {};
    for (const state of ['pending', 'approved', 'running', 'completed', 'failed', 'rejected', 'cancelled']) {
      for (const id of [RESTART, CLEANUP]) if (await readJson(path.join(hub.root, 'actions', state, `${id}.json`))) (out[id] ??= []).push(state);
    }
    return out;
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-mcp-');
    // Created, never started: the service is down, so the supervisor proposes a restart with its evidence.
    await docker.createContainer({ name: container, Image: inject('busyboxImage'), Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: `node: piha\nservices:\n  svc:\n    containers: [${container}]\n` });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'mcp-hub' });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'mcp-agent',
      hubRoot: hub.root,
    });
    await waitFor(async () => readJson(path.join(hub.root, 'actions', 'pending', `${RESTART}.json`)), { timeoutMs: 40_000, what: `${RESTART} proposed` });
    const port = await freePort();
    httpServer = homelab(['mcp', '--hub', hub.httpUrl, '--http-port', String(port)], { name: 'mcp-http', env: { LOG_LEVEL: 'warn' } });
    await httpServer.waitForOutput('serving', 30_000);
    httpUrl = `http://127.0.0.1:${port}/mcp`;
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await httpServer?.stop();
    await agent?.stop();
    await hub?.proc.stop();
    await docker
      .getContainer(container)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('answers the read tools over stdio with a viewer token', async () => {
    const client = await stdioClient(hub.auth.viewerToken);
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name).sort()).toEqual(['action', 'actions', 'events', 'propose', 'summary', 'summary_markdown', 'why', 'world', 'world_at']);
    for (const t of tools) expect(t.outputSchema, `${t.name} declares its output`).toBeDefined();

    const summary = await call(client, 'summary');
    expect(summary.isError).toBeFalsy();
    expect(summary.structuredContent.actions.pending.map((a: { id: string }) => a.id)).toContain(RESTART);
    expect(text(await call(client, 'summary_markdown'))).toContain(RESTART);

    const world = await call(client, 'world');
    expect(world.structuredContent.services['piha/svc']).toMatchObject({ node: 'piha', service: 'svc' });
    expect(world.structuredContent.services['piha/svc'].status).not.toBe('healthy');

    const events = await call(client, 'events', { node: 'piha', limit: 50 });
    expect(events.isError).toBeFalsy();
    expect(events.structuredContent.events.length).toBeGreaterThan(0);
    expect(events.structuredContent.events.every((e: { event: { node: string } }) => e.event.node === 'piha')).toBe(true);

    const pending = await call(client, 'actions', { state: 'pending' });
    expect(pending.structuredContent.actions.map((a: { id: string }) => a.id)).toEqual([RESTART]);
    expect((await call(client, 'action', { id: RESTART })).structuredContent).toMatchObject({ id: RESTART, state: 'pending' });
    expect((await call(client, 'action', { id: 'container-restart-piha-nope' })).isError).toBe(true);
  });

  it('shows why the supervisor proposed the restart: its evidence events, drift, audit, and no command yet', async () => {
    const client = await stdioClient(hub.auth.viewerToken);
    const why = await call(client, 'why', { id: RESTART });
    expect(why.isError, text(why)).toBeFalsy();
    const { action, evidence, missingEventIds } = why.structuredContent;
    expect(action.drift.eventIds.length).toBeGreaterThan(0);
    expect(evidence.map((e: { event: { id: string } }) => e.event.id)).toEqual(action.drift.eventIds);
    expect(missingEventIds).toEqual([]);
    expect(text(why)).toMatch(/drift: (missing_service|unhealthy_service)/);
    expect(text(why)).toContain('command: not sent');
    expect(text(why)).toContain('by supervisor via supervisor');
  });

  it('rebuilds the world at a past instant through the hub, and refuses a time that is not one', async () => {
    const client = await stdioClient(hub.auth.viewerToken);
    const before = await call(client, 'world_at', { at: '2000-01-01T00:00:00.000Z' });
    expect(before.isError).toBeFalsy();
    expect(before.structuredContent).toMatchObject({ at: '2000-01-01T00:00:00.000Z', services: {}, nodes: {} });
    const now = await call(client, 'world_at', { at: new Date().toISOString() });
    expect(now.structuredContent.services['piha/svc']).toMatchObject({ node: 'piha', service: 'svc' });
    expect((await call(client, 'world_at', { at: 'yesterday' })).isError).toBe(true);
  });

  it('answers the hub’s refusal when a viewer proposes, and writes nothing', async () => {
    const client = await stdioClient(hub.auth.viewerToken);
    const r = await call(client, 'propose', { type: 'disk_cleanup', node: 'piha' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/403 forbidden/);
    expect((await actionFiles())[CLEANUP]).toBeUndefined();
  });

  it('refuses an HTTP client without a token and a foreign Host or Origin, and serves clients of both protocol eras with their own token', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: '{}',
      });
    expect((await post({})).status).toBe(401);
    // A web page cannot use it: not through DNS rebinding (a foreign Host), not from a foreign origin.
    expect(await postWithHost(httpUrl, 'evil.example', hub.auth.viewerToken)).toBe(403);
    expect((await post({ authorization: `Bearer ${hub.auth.viewerToken}`, origin: 'https://evil.example' })).status).toBe(403);
    const modern = await httpClient(hub.auth.viewerToken, 'modern');
    expect((await call(modern, 'actions', { state: 'pending' })).structuredContent.actions.map((a: { id: string }) => a.id)).toEqual([RESTART]);
    const viewer = await httpClient(hub.auth.viewerToken);
    expect((await call(viewer, 'world')).structuredContent.services['piha/svc']).toBeDefined();
    expect(text(await call(viewer, 'propose', { type: 'disk_cleanup', node: 'piha' }))).toMatch(/403 forbidden/);
    const wrong = await httpClient('hlv_not-a-token');
    expect(text(await call(wrong, 'summary'))).toMatch(/401/);
  });

  it('with an operator token proposes a pending action, and no tool moves any action out of pending', async () => {
    const client = await httpClient(hub.auth.operatorToken);
    const proposed = await call(client, 'propose', { type: 'disk_cleanup', node: 'piha', note: 'the disk fills up' });
    expect(proposed.isError, text(proposed)).toBeFalsy();
    expect(proposed.structuredContent).toMatchObject({ id: CLEANUP, state: 'pending', drift: { type: 'operator_request' } });
    // The audit names the token (no `by` is sent) and where the request came from.
    expect(proposed.structuredContent.audit).toEqual([
      expect.objectContaining({
        state: 'pending',
        by: 'admin-token',
        via: 'api',
        note: 'the disk fills up',
        from: expect.objectContaining({ ip: expect.any(String) }),
      }),
    ]);

    // Every tool the server lists, called with arguments aimed at both pending actions.
    const argsFor: Record<string, Record<string, unknown>[]> = {
      action: [{ id: RESTART }, { id: CLEANUP }],
      why: [{ id: RESTART }, { id: CLEANUP }],
      world_at: [{ at: new Date().toISOString() }],
      events: [{ node: 'piha' }],
      actions: [{}, { state: 'pending' }],
      propose: [
        { type: 'container_restart', node: 'piha', service: 'svc' },
        { type: 'disk_cleanup', node: 'piha' },
      ],
    };
    for (const tool of (await client.listTools()).tools) {
      for (const args of argsFor[tool.name] ?? [{}]) await call(client, tool.name, args);
    }
    // A second proposal of a live action is the hub's conflict, not a decision.
    expect(text(await call(client, 'propose', { type: 'container_restart', node: 'piha', service: 'svc' }))).toMatch(/409 conflict/);
    expect(await actionFiles()).toEqual({ [RESTART]: ['pending'], [CLEANUP]: ['pending'] });
    const audits = [
      (await readJson(path.join(hub.root, 'actions', 'pending', `${RESTART}.json`))).audit,
      (await readJson(path.join(hub.root, 'actions', 'pending', `${CLEANUP}.json`))).audit,
    ];
    for (const audit of audits) expect(audit.map((e: { state: string }) => e.state)).toEqual(['pending']);
  });
});
