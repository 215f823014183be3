import { z } from 'zod';
import { parse, UsageError } from '../args';
import { MCP_HELP } from '../help';
import { DEFAULT_HUB_URL, hubUrlSetting } from '../hub-client-settings';
import { resolveHubToken } from '../hub-token';
import { serveMcpHttp, serveMcpStdio } from '../mcp/serve';
import { untilSignal } from '../signals';

const OPTIONS = {
  hub: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'http-port': { type: 'string' },
  'http-host': { type: 'string' },
} as const;

const Port = z.coerce.number().int().min(0).max(65535);

/** `homelab mcp`: the hub's read tools and `propose` for an assistant, over stdio or HTTP (docs/mcp.md). */
export async function mcpCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    console.log(MCP_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`mcp takes no arguments (got ${positionals.join(' ')})`);
  const hub = hubUrlSetting(values.hub, process.env) ?? DEFAULT_HUB_URL;
  if (values['http-port'] === undefined) {
    if (values['http-host']) throw new UsageError('--http-host needs --http-port');
    // Without a token given, the viewer token of a hub on this machine: read-only unless an operator token is chosen.
    const server = serveMcpStdio(hub, resolveHubToken(values, process.env, 'viewerToken'));
    await Promise.race([new Promise((resolve) => process.stdin.once('close', resolve).once('end', resolve)), untilSignal()]);
    await server.close();
    return 0;
  }
  if (values.token || values['token-file']) throw new UsageError('over HTTP each MCP client sends its own token (Authorization: Bearer); --token is for stdio');
  const port = Port.safeParse(values['http-port']);
  if (!port.success) throw new UsageError(`--http-port: not a port (${values['http-port']})`);
  const served = await serveMcpHttp({ hub, host: values['http-host'] ?? '127.0.0.1', port: port.data });
  console.error(`homelab mcp: serving ${served.url} for the hub at ${hub}`);
  await untilSignal();
  await served.close();
  return 0;
}
