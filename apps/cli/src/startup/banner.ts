/** What the terminal is told once the hub (and, for `up`, the local agent) runs. */
export interface StartupFacts {
  httpUrl: string;
  mqttUrl: string;
  /** The hub runs its own broker (no --mqtt-url). */
  embeddedBroker: boolean;
  root: string;
  hostsDir: string;
  /** Nodes with a hosts/<node>/services.yaml. */
  describedNodes: readonly string[];
  /** The first start's generated login and tokens, when that file exists. */
  credentialsFile: string | null;
  /** `homelab up` only: this machine's agent. */
  agent?: { node: string; dockerSocket: string; dockerReachable: boolean };
}

/**
 * Plain words for people: what runs
 * where, then what to do next — the first thing that is missing first.
 */
export function startupBanner(f: StartupFacts): string {
  const rows: [string, string][] = [
    ['UI and API', `${f.httpUrl}   sign in as 'admin'${f.credentialsFile ? `, password in ${f.credentialsFile}` : ''}`],
    ['MQTT', `${f.mqttUrl}${f.embeddedBroker ? ' (embedded broker)' : ''}`],
  ];
  if (f.agent) rows.push(['agent', `'${f.agent.node}', Docker at ${f.agent.dockerSocket}`]);
  rows.push(['data', f.root], ['desired state', `${f.hostsDir}: ${f.describedNodes.length ? f.describedNodes.join(', ') : 'no node described yet'}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const next: string[] = [];
  if (f.agent && !f.agent.dockerReachable) {
    next.push(`Docker does not answer at ${f.agent.dockerSocket}: start it (sudo systemctl start docker), or give --docker-socket <path>.`);
  }
  if (f.agent && !f.describedNodes.includes(f.agent.node)) {
    next.push(
      `This machine ('${f.agent.node}') has no ${f.hostsDir}/${f.agent.node}/services.yaml yet: draft it from what runs with 'npx homelab adopt --node ${f.agent.node}' (add --write to keep it), or click Adopt at ${f.httpUrl}/nodes/${encodeURIComponent(f.agent.node)}/adopt (docs/services-yaml.md).`,
    );
  }
  if (!f.agent) next.push(`Connect an agent per Docker host: 'homelab nodes add <name>' here, then 'homelab agent --node <name>' there (docs/deploy.md).`);
  next.push(`Open ${f.httpUrl} to see the fleet and approve what the hub proposes.`);
  return [`homelab is up.`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), '', 'Next:', ...next.map((n) => `  - ${n}`), ''].join('\n');
}
