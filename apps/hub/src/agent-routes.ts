import { CHANNELS, Command, NodeStatus, parseTopic, topics, type CommandResult } from '@homelab/contracts';
import type { NodeAliases } from './node-aliases';

/**
 * Where the hub reaches the agent of a canonical node (docs/node-aliases.md).
 * An agent reads and writes only the topics of the name it runs under, which
 * under NODE_ALIAS_MAP is an alias, while actions and the world use the
 * canonical name. Commands therefore go to the name whose agent spoke last
 * (a birth, events or a result); before any has, to the only alias when
 * there is exactly one, else to the canonical name itself.
 */
export class AgentRoutes {
  /** Canonical node → the name its agent last spoke under. */
  private readonly lastHeard = new Map<string, string>();

  constructor(private readonly aliases: NodeAliases) {}

  /** Notes which name spoke, from a message an agent published (before ingest validates it; only a name is kept). */
  heard(topic: string, payload: Buffer): void {
    if (this.aliases.empty) return;
    const parsed = parseTopic(topic);
    if (!parsed || CHANNELS[parsed.channel].from !== 'node') return;
    if (parsed.channel === 'status' && !isOnline(payload, parsed.node)) return;
    const canonical = this.aliases.canonical(parsed.node);
    if (canonical !== parsed.node || this.aliases.aliasesOf(canonical).length > 0) this.lastHeard.set(canonical, parsed.node);
  }

  /** The name the agent of `canonical` runs under now. */
  agentFor(canonical: string): string {
    const heard = this.lastHeard.get(canonical);
    if (heard !== undefined) return heard;
    const aliases = this.aliases.aliasesOf(canonical);
    return aliases.length === 1 ? aliases[0]! : canonical;
  }

  /** A command for an action of a canonical node, addressed to its agent: topic and payload. */
  route(cmd: Command): { topic: string; command: Command } {
    const agent = this.agentFor(cmd.node);
    return { topic: topics.commands(agent), command: agent === cmd.node ? cmd : Command.parse({ ...cmd, node: agent }) };
  }

  /** A result as the executor knows it: for the canonical node its action is for. */
  canonicalResult(result: CommandResult): CommandResult {
    const canonical = this.aliases.canonical(result.node);
    return canonical === result.node ? result : { ...result, node: canonical };
  }
}

function isOnline(payload: Buffer, node: string): boolean {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return false;
  }
  const status = NodeStatus.safeParse(json);
  return status.success && status.data.node === node && status.data.state === 'online';
}
