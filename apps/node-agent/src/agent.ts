import path from 'node:path';
import { channelsTo, handlerOf, parseTopic, publishText, topicOf, topics, type Clock, type Handlers, type HomelabEvent } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { StartedParts } from '@homelab/runtime';
import { settledWithin, statusPayload } from './delivery/birth';
import { CommandHandler } from './commands/commands';
import type { AgentConfig } from './config';
import { DesiredCache } from './state/desired-cache';
import { DiskWatcher, type DiskUsage } from './watch/disk-watch';
import type { DockerCapabilities, DockerPort } from './docker/docker-port';
import { AgentError, errorMessage } from './errors';
import { ensureDir } from './state/fs-atomic';
import { checkStateLayout } from './state/state-layout';
import { InboundCounters } from './delivery/inbound';
import { InventoryReporter } from './watch/inventory';
import { CommandJournal } from './commands/journal';
import type { ConnectMqtt, MqttLink } from './delivery/mqtt-port';
import { Outbox } from './delivery/outbox';
import { ProbeScheduler } from './watch/probe-scheduler';
import { probeRunner, type ProbeRunner } from './watch/probes';
import { EventPublisher } from './delivery/publisher';
import type { EventDraft } from './delivery/stamper';
import { SeqAllocator } from './delivery/seq';
import { nextSession } from './delivery/session';
import { HOMELAB_VERSION } from '@homelab/contracts';
import { ServiceWatcher, type HostStats } from './watch/watcher';

export interface NodeAgentDeps {
  config: AgentConfig;
  log: Logger;
  clock: Clock;
  docker: DockerPort;
  /** What the engine offers beyond DockerPort (inventory, disk_cleanup); none by default. */
  capabilities?: DockerCapabilities;
  connectMqtt: ConnectMqtt;
  hostStats?: () => HostStats;
  /** Runs services.yaml probes; default: real TCP/HTTP/MQTT connections (probes.ts). */
  probeRunner?: ProbeRunner;
  /** Reads a mount's usage (disk-watch.ts statfsUsage); without it the agent watches no disk. */
  diskUsage?: (mount: string) => Promise<DiskUsage>;
}

/** How long a (re)connect waits for a fresh scan before the birth goes out with what the watcher knows. */
const GREETING_SCAN_MS = 2000;

interface Parts {
  session: number;
  outbox: Outbox;
  publisher: EventPublisher;
  watcher: ServiceWatcher;
  disks: DiskWatcher | null;
  inventory: InventoryReporter | null;
  commands: CommandHandler;
  desired: DesiredCache;
  link: MqttLink;
}

/**
 * One node's agent: state on disk (session, seq lease, outbox, journal,
 * desired cache), one MQTT connection with a retained birth/will on
 * `nodes/<node>/status`, the service watcher and the command handler.
 * Outbound only: it connects to the broker and to the Docker socket, and
 * listens nowhere. The constructor does no I/O; start() does.
 */
export class NodeAgent {
  readonly counters = new InboundCounters();
  private parts: Parts | null = null;
  /** The start in progress or done, with what it has started (closed newest first, docs/agent-lifecycle.md). */
  private run: { starting: Promise<void>; started: StartedParts } | null = null;

  constructor(private readonly deps: NodeAgentDeps) {}

  /** Starts every part; if a step fails, stops what had started, newest first, and rejects with the failure. */
  start(): Promise<void> {
    if (this.run) return this.run.starting;
    const started = new StartedParts('agent');
    const starting = this.startParts(started).catch(async (err: unknown) => {
      if (this.run?.started === started) this.run = null;
      this.parts = null;
      await started.closeAll(this.deps.log);
      throw err;
    });
    this.run = { starting, started };
    return starting;
  }

  private async startParts(started: StartedParts): Promise<void> {
    const { config, log, clock, docker } = this.deps;
    const { node, stateDir } = config;
    // A state folder of a newer agent is refused before any of it is read or written (docs/upgrade.md).
    await checkStateLayout(stateDir);
    await ensureDir(stateDir);
    const session = await nextSession(stateDir, clock.now(), log);

    const seq = new SeqAllocator(stateDir);
    await seq.open();
    const outbox = new Outbox({
      dir: path.join(stateDir, 'outbox'),
      legacyFile: path.join(stateDir, 'outbox.jsonl'),
      maxBytes: config.outboxMaxBytes,
      log: log.child({ part: 'outbox' }),
    });
    await outbox.open();
    started.add('outbox', () => outbox.close());
    seq.ensureAbove(outbox.maxSeq());
    const desired = new DesiredCache({ node, stateDir, log: log.child({ part: 'desired' }), counters: this.counters, maxPayloadBytes: config.maxPayloadBytes });
    await desired.load();
    const journal = new CommandJournal(path.join(stateDir, 'journal'));
    await journal.init();

    const linkRef: { current?: MqttLink } = {};
    const link: Pick<MqttLink, 'publish' | 'connected'> = {
      publish: (t, p, o) => (linkRef.current ? linkRef.current.publish(t, p, o) : Promise.reject(new Error('not connected'))),
      connected: () => linkRef.current?.connected() ?? false,
    };
    const publisher = new EventPublisher({
      node,
      seq,
      outbox,
      link,
      clock,
      log: log.child({ part: 'publisher' }),
      counters: this.counters,
      ackTimeoutMs: config.ackTimeoutMs,
      maxPayloadBytes: config.maxPayloadBytes,
    });
    const { inventory: inventoryPort, cleanup: cleanupPort } = this.deps.capabilities ?? {};
    // Every event of this process gets a seq from here on; lower ones (the outbox's backlog) are older evidence.
    const sessionFromSeq = seq.peekLast() + 1;
    const inventory = inventoryPort
      ? new InventoryReporter({
          docker: inventoryPort,
          desired: () => desired.current()?.services,
          sink: publisher,
          clock,
          log: log.child({ part: 'inventory' }),
          intervalMs: config.scanMs,
          session: { session, fromSeq: sessionFromSeq },
        })
      : null;
    const watcherRef: { current?: ServiceWatcher } = {};
    const runProbe = this.deps.probeRunner ?? probeRunner({ env: process.env, agentSecret: config.mqttPassword });
    const probes = new ProbeScheduler({ run: runProbe, clock, log: log.child({ part: 'probes' }), onChange: () => watcherRef.current?.kick() });
    const watcher = new ServiceWatcher({
      docker,
      services: () => desired.watched(),
      sink: publisher,
      clock,
      log: log.child({ part: 'watcher' }),
      desiredRevision: () => desired.current()?.revision ?? null,
      onScanned: (revision) => inventory?.afterScan(revision) ?? Promise.resolve(),
      scanMs: config.scanMs,
      heartbeatMs: config.heartbeatMs,
      hostStats: this.deps.hostStats,
      probes,
      onOtherEvent: () => inventory?.kick(),
    });
    watcherRef.current = watcher;
    const disks = this.deps.diskUsage ? this.diskWatcher(this.deps.diskUsage, publisher) : null;
    const commands = new CommandHandler({
      node,
      desiredSpec: (s) => desired.current()?.services[s],
      docker,
      journal,
      link,
      clock,
      log: log.child({ part: 'commands' }),
      cleanupDocker: cleanupPort,
      desiredServices: () => desired.current()?.services,
      dockerSocket: config.dockerSocket,
      stackRoots: config.stackRoots,
      counters: this.counters,
      clockSkewMs: config.commandClockSkewMs,
      stopTimeoutSec: config.restartStopTimeoutSec,
      maxPayloadBytes: config.maxPayloadBytes,
    });

    const base = (linked: number) => ({ node, session, connection: linked, version: HOMELAB_VERSION, now: clock.now() });
    // Each connection greets the hub: a fresh scan, the birth (snapshot + backlog), then the backlog itself.
    let connection = 0;
    // The broker connection in use (its number is in the birth and will): a clean offline must carry it too, or it would lose to that birth.
    const linkedConnection = { current: 0 };
    const greet = async (mine: number, linked: number) => {
      if (this.parts === null) return;
      await settledWithin(watcher.runOnce(), GREETING_SCAN_MS, clock);
      // That connection is gone (the next one greets), or the agent is stopping (its offline status must stay last).
      if (mine !== connection || !link.connected() || this.parts === null) return;
      const birth = statusPayload('online', base(linked), { backlog: outbox.backlog(), services: watcher.states() });
      if (linkRef.current) {
        publishText(linkRef.current, 'status', [node], birth).catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'could not publish birth'));
      }
      publisher.onConnected(); // same connection, later publishes: the broker forwards the birth first
    };
    // One handler per channel an agent receives (CHANNELS in libs/contracts).
    const handlers: Handlers<'node', void> = {
      desired: (_, payload, topic) =>
        void desired.accept(topic, payload).then((r) => {
          if (r !== 'applied') return;
          watcher.kick();
          inventory?.kick();
        }),
      commands: (_, payload, topic) => void commands.handle(topic, payload),
      acks: (_, payload, topic) => void publisher.onAck(topic, payload),
    };
    const onMessage = (topic: string, payload: Buffer) => {
      const parsed = parseTopic(topic);
      const handle = parsed?.node === node ? handlerOf(handlers, parsed) : undefined;
      if (handle && parsed) handle(parsed, payload, topic);
      else log.debug({ topic }, 'message on an unexpected topic ignored');
    };
    linkRef.current = this.deps.connectMqtt({
      url: config.mqttUrl,
      clientId: node,
      username: config.mqttUsername ?? node,
      password: config.mqttPassword,
      caFile: config.mqttCaFile,
      will: { topic: topics.status(node), payload: (linked) => statusPayload('offline', base(linked)), qos: 1, retain: true },
      subscriptions: channelsTo('node').map((channel) => topicOf(channel, node)),
      log: log.child({ part: 'mqtt' }),
      onMessage,
      onClose: () => {
        connection += 1;
        publisher.onDisconnected();
      },
      onConnect: (info) => {
        linkedConnection.current = info.connection;
        void greet(++connection, info.connection);
      },
    });
    const mqtt = linkRef.current;
    // Stopped after every loop: the offline status follows their last events, then the connection closes.
    started.add('mqtt link', () => this.disconnect(mqtt, session, linkedConnection.current));
    this.parts = { session, outbox, publisher, watcher, disks, inventory, commands, desired, link: mqtt };
    publisher.start();
    started.add('publisher', () => publisher.stop());
    watcher.start();
    started.add('service watch', () => watcher.stop());
    if (disks) {
      disks.start();
      started.add('disk watch', () => disks.stop());
    }
    if (inventory) {
      inventory.start();
      started.add('inventory', () => inventory.stop());
    }
    log.info({ node, session, stateDir, mqtt: config.mqttUrl, docker: config.dockerSocket, pending: outbox.stats().entries }, 'agent running');
  }

  /** Stops the parts newest first, each after the one before has finished: the loops, then the retained offline status and a clean disconnect, then the outbox. */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.run = null;
    // A start in progress ends first (a failed one has stopped its parts itself), so nothing it starts outlives this.
    if (
      !(await run.starting.then(
        () => true,
        () => false,
      ))
    )
      return;
    this.parts = null;
    await run.started.closeAll(this.deps.log);
    this.deps.log.info('agent stopped');
  }

  /** Publishes the offline status (retained) while connected, and closes the connection. */
  private async disconnect(link: MqttLink, session: number, connection: number): Promise<void> {
    const { log, clock, config } = this.deps;
    if (link.connected()) {
      const offline = statusPayload('offline', { node: config.node, session, connection, version: HOMELAB_VERSION, now: clock.now() });
      await withTimeout(publishText(link, 'status', [config.node], offline), 2000).catch((err: unknown) =>
        log.warn({ err: errorMessage(err) }, 'could not publish offline status; the broker will send the will'),
      );
    }
    await withTimeout(link.close(), 2000).catch(() => undefined);
  }

  /** Disk watch of the configured mounts, or `/` and the Docker data-root (asked from Docker until it answers). */
  private diskWatcher(usage: (mount: string) => Promise<DiskUsage>, sink: EventPublisher): DiskWatcher {
    const { config, clock, log, docker } = this.deps;
    const dataRootOf = (docker as { dataRoot?: () => Promise<string | undefined> }).dataRoot?.bind(docker);
    let dataRoot: string | undefined;
    const mounts = async () => {
      if (config.diskMounts) return config.diskMounts;
      if (dataRoot === undefined && dataRootOf) dataRoot = await dataRootOf().catch(() => undefined);
      return dataRoot && dataRoot !== '/' ? ['/', dataRoot] : ['/'];
    };
    return new DiskWatcher({
      mounts,
      usage,
      sink,
      clock,
      log: log.child({ part: 'disk' }),
      intervalMs: config.diskCheckMs,
      thresholds: { warn: config.diskWarnPercent, high: config.diskHighPercent, hysteresis: config.diskHysteresisPercent },
    });
  }

  /**
   * Sends one event through the real path (seq, outbox, publish, ack) as if
   * the watcher had produced it. Used by load and fault tests to create
   * bursts; resolves once the event is durable in the outbox.
   */
  emit(draft: EventDraft): Promise<HomelabEvent | null> {
    if (!this.parts) return Promise.reject(new AgentError('io_failed', 'agent is not started'));
    return this.parts.publisher.emit(draft);
  }

  /** A snapshot for tests and diagnostics. */
  snapshot() {
    const p = this.parts;
    if (!p) return null;
    return {
      session: p.session,
      connected: p.link.connected(),
      outbox: p.outbox.stats(),
      publisher: { resends: p.publisher.resends, gapAcks: p.publisher.gapAcks, gapRewinds: p.publisher.gapRewinds },
      rejected: { ...this.counters.rejected },
      commandsExecuted: p.commands.executed,
      desiredRevision: p.desired.current()?.revision ?? null,
      services: Object.fromEntries([...p.watcher.states()].map(([k, v]) => [k, v.status])),
      disks: Object.fromEntries(p.disks?.states() ?? []),
    };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
