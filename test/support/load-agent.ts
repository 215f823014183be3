/**
 * A real node agent under synthetic load, run as a child process by the fault tests:
 *
 *   node --import tsx test/support/load-agent.ts --node n1 --mqtt-url mqtt://127.0.0.1:1883 \
 *     --state-dir /tmp/x --events 20000 --services 40 --rate max
 *
 * It builds a NodeAgent exactly as runAgent does (MQTT.js link, seq lease, on-disk
 * outbox, system clock) except for Docker: a DockerPort with no containers, so
 * the watcher stays quiet and every service event in the log is one of ours.
 * Events go through agent.emit(): the real seq / outbox / publish / hub-ack path.
 *
 * Load event number i (0 ≤ i < --events) is a pure function of i (see loadEvent),
 * so an event re-emitted after a crash carries the same service, type and index.
 * Each event whose emit() resolved (durable in the outbox) is recorded in
 * `<state-dir>/load-ledger.jsonl` as {"i","seq"}; a restart with the same state dir
 * continues after the highest recorded i. kill -9 may leave a few events durable
 * in the outbox but unrecorded: they are still delivered (with their own seq) and
 * their i is emitted once more after the restart; tests count them as "orphans".
 *
 * stdout lines (for waitForOutput):
 *   ready node=<n> resume=<i> session=<s>
 *   emitted <count>            every --progress events and once at the end
 *   outbox entries=… bytes=… fileBytes=… dropped=… cap=…   after each of those
 *   emitted-all <count>
 *   acked <highest seq>        once everything emitted has left the outbox (hub ack)
 * SIGTERM / SIGINT: stops the agent cleanly (outbox kept) and exits 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock, type ContainerObservation } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { AgentError, connectMqttJs, NodeAgent, osHostStats, parseAgentConfig, type DockerPort, type EventDraft } from '@homelab/node-agent';

export const LEDGER_FILE = 'load-ledger.jsonl';

/** The deterministic i-th load event: service svc-<i mod services>, healthy or unhealthy; the index is in the container name. */
export function loadEvent(i: number, services: number): EventDraft {
  const service = `svc-${i % services}`;
  // Round r of a service: unhealthy on odd rounds except every 3rd, so runs of both kinds end the burst.
  const round = Math.floor(i / services);
  const unhealthy = round % 2 === 1 || (i * 2654435761) % 7 === 0;
  const containers = [{ name: `load-${i}`, state: unhealthy ? 'exited' : 'running' }];
  return unhealthy
    ? { type: 'service_unhealthy', service, data: { reason: 'probe_failed', detail: `load event ${i}`, containers } }
    : { type: 'service_healthy', service, data: { containers } };
}

/** Load index of a stored event written by this script, or null. */
export function loadIndexOf(event: { type?: string; data?: { containers?: Array<{ name?: string }> } }): number | null {
  if (event.type !== 'service_healthy' && event.type !== 'service_unhealthy') return null;
  const m = /^load-(\d+)$/.exec(event.data?.containers?.[0]?.name ?? '');
  return m ? Number(m[1]) : null;
}

/** Docker with nothing in it: the watcher sees no containers and never reports Docker as unreachable. */
class EmptyDocker implements DockerPort {
  async observe(): Promise<ContainerObservation[]> {
    return [];
  }
  async restartContainer(name: string): Promise<void> {
    throw new AgentError('not_found', `container ${name} does not exist (load agent)`);
  }
  async subscribe() {
    return { close: () => undefined };
  }
  async ping() {
    return { version: 'load-agent' };
  }
}

export interface LedgerEntry {
  i: number;
  seq: number;
}

/** Reads the ledger, ignoring a torn last line. */
export function readLedger(stateDir: string): LedgerEntry[] {
  let text = '';
  try {
    text = fs.readFileSync(path.join(stateDir, LEDGER_FILE), 'utf8');
  } catch {
    return [];
  }
  const out: LedgerEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as LedgerEntry;
      if (Number.isInteger(e.i) && Number.isInteger(e.seq)) out.push(e);
    } catch {
      // torn tail after kill -9
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      node: { type: 'string' },
      'mqtt-url': { type: 'string' },
      'state-dir': { type: 'string' },
      events: { type: 'string', default: '20000' },
      services: { type: 'string', default: '40' },
      rate: { type: 'string', default: 'max' },
      progress: { type: 'string', default: '1000' },
    },
    strict: true,
  });
  const node = values.node;
  const stateDir = values['state-dir'];
  if (!node || !stateDir || !values['mqtt-url']) throw new Error('--node, --mqtt-url and --state-dir are required');
  const total = Number(values.events);
  const services = Number(values.services);
  const rate = values.rate === 'max' ? Infinity : Number(values.rate);
  const progressEvery = Number(values.progress);
  if (!(total >= 0 && services > 0 && rate > 0)) throw new Error('bad --events, --services or --rate');

  // The agent's own knobs (ack timeout, outbox cap, …) come from the environment as for `homelab agent`.
  const config = parseAgentConfig(process.env, {
    node,
    'mqtt-url': values['mqtt-url'],
    'state-dir': stateDir,
    'docker-socket': '/nonexistent/load-agent.sock',
  });
  const log = createLogger('load-agent');
  const agent = new NodeAgent({ config, log, clock: systemClock, docker: new EmptyDocker(), connectMqtt: connectMqttJs, hostStats: osHostStats });
  await agent.start();

  const ledgerPath = path.join(config.stateDir, LEDGER_FILE);
  const prior = readLedger(config.stateDir);
  let next = prior.reduce((m, e) => Math.max(m, e.i + 1), 0);
  // A torn last line would glue onto our first append: start on a fresh line.
  const ledgerFd = fs.openSync(ledgerPath, 'a+');
  const size = fs.fstatSync(ledgerFd).size;
  if (size > 0) {
    const last = Buffer.alloc(1);
    fs.readSync(ledgerFd, last, 0, 1, size - 1);
    if (last.toString() !== '\n') fs.writeSync(ledgerFd, '\n');
  }
  let emitted = next;
  let highestSeq = prior.reduce((m, e) => Math.max(m, e.seq), 0);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`ready node=${node} resume=${next} session=${agent.snapshot()?.session ?? '?'}`);

  const outboxLine = () => {
    const o = agent.snapshot()?.outbox;
    if (o) out(`outbox entries=${o.entries} bytes=${o.bytes} fileBytes=${o.fileBytes} dropped=${o.dropped} cap=${config.outboxMaxBytes}`);
  };

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await agent.stop();
    fs.closeSync(ledgerFd);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  // Emit in waves: each wave is stamped in order and shares the outbox's group commits.
  const wave = Number.isFinite(rate) ? Math.max(1, Math.min(500, Math.ceil(rate / 20))) : 500;
  const startedAt = Date.now();
  const startIndex = next;
  let lastProgress = Math.floor(next / progressEvery);
  while (next < total && !stopping) {
    const n = Math.min(wave, total - next);
    const batch: Array<Promise<LedgerEntry | null>> = [];
    for (let k = 0; k < n; k++) {
      const i = next++;
      batch.push(agent.emit(loadEvent(i, services)).then((e) => (e ? { i, seq: e.seq } : null)));
    }
    const done = await Promise.all(batch);
    const lines = done.filter((e): e is LedgerEntry => e !== null);
    if (lines.length !== done.length) throw new Error(`emit failed for ${done.length - lines.length} events`);
    fs.writeSync(ledgerFd, lines.map((e) => JSON.stringify(e)).join('\n') + '\n');
    fs.fdatasyncSync(ledgerFd);
    for (const e of lines) highestSeq = Math.max(highestSeq, e.seq);
    emitted = next;
    if (Math.floor(emitted / progressEvery) !== lastProgress) {
      lastProgress = Math.floor(emitted / progressEvery);
      out(`emitted ${emitted}`);
      outboxLine();
    }
    if (Number.isFinite(rate)) {
      const dueAt = startedAt + ((emitted - startIndex) / rate) * 1000;
      const wait = dueAt - Date.now();
      if (wait > 0) await sleep(wait);
    }
  }
  if (emitted % progressEvery !== 0) out(`emitted ${emitted}`);
  out(`emitted-all ${emitted}`);
  outboxLine();

  // Wait for the hub's ack of everything (the outbox empties); keep running afterwards until signalled.
  let acked = false;
  for (;;) {
    const snap = agent.snapshot();
    if (!snap) return;
    if (!acked && snap.outbox.entries === 0) {
      acked = true;
      out(`acked ${highestSeq}`);
    } else if (acked && snap.outbox.entries > 0) acked = false;
    await sleep(100);
  }
}

// Only when run as a script (tests import loadEvent / readLedger from here).
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    process.stderr.write(`load-agent failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
