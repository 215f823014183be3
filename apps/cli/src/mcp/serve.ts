import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { localhostHostValidation, localhostOriginValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { HOMELAB_VERSION } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { hubReader } from './hub-reader';
import { registerTools } from './tools';

// stderr: over stdio, stdout carries the MCP messages and nothing else (docs/mcp.md, "Setup").
const log = createLogger('mcp', {}, { stream: process.stderr });
const logError = (err: Error) => log.error({ err }, 'mcp request failed');

/** The path MCP clients post to (docs/mcp.md). */
export const MCP_PATH = '/mcp';

/** One MCP server instance whose tools talk to `hub` with `token`. */
export function homelabMcpServer(hub: string, token: string | undefined): McpServer {
  const server = new McpServer({ name: 'homelab', version: HOMELAB_VERSION }, { capabilities: { tools: {} } });
  registerTools(server, hubReader(hub, token));
  return server;
}

/** MCP over stdin/stdout with one token for the whole connection (the client started this process). */
export function serveMcpStdio(hub: string, token: string | undefined): { close(): Promise<void> } {
  return serveStdio(() => homelabMcpServer(hub, token), { onerror: logError });
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const refuse = (res: http.ServerResponse, status: number, error: string, message: string) => {
  res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(JSON.stringify({ error, message }));
};

/**
 * MCP over streamable HTTP at `/mcp`. It holds no credential of its own: each
 * request must carry `Authorization: Bearer <hub API token>` and the tools use
 * exactly that token, so the hub's guard decides every read and every proposal
 * as it would for the client itself (docs/mcp.md, "Security model").
 */
export async function serveMcpHttp(opts: { hub: string; host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  const handler = createMcpHandler(({ authInfo }) => homelabMcpServer(opts.hub, authInfo?.token), { onerror: logError });
  const toNode = toNodeHandler(handler, { onerror: logError });
  // DNS rebinding and foreign web pages: a loopback listener answers only Host names of this machine.
  const validHost = LOOPBACK.has(opts.host) ? localhostHostValidation() : () => true;
  const validOrigin = localhostOriginValidation();
  const server = http.createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== MCP_PATH) return refuse(res, 404, 'not_found', `MCP is served at ${MCP_PATH}`);
    if (!validHost(req, res) || !validOrigin(req, res)) return;
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token)
      return refuse(
        res,
        401,
        'unauthorized',
        "send the hub's API token as Authorization: Bearer <token> (a viewer token reads, an operator token may also propose)",
      );
    (req as http.IncomingMessage & { auth?: unknown }).auth = { token, clientId: 'bearer', scopes: [] };
    void toNode(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}${MCP_PATH}`,
    close: async () => {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
