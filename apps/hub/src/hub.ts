import { flagsOf, systemClock, type Clock, type Command, type HaAclOptions } from '@homelab/contracts';
import { FsActionStore } from '@homelab/action-store';
import { acquireRootLock, FsEventLog, FsEventLogReader, logBytesOnDisk, RetentionLoop, RootLockedError, type RootLock } from '@homelab/event-log';
import type { Logger } from '@homelab/logging';
import { StartedParts } from '@homelab/runtime';
import { loadCredentialStore } from './broker/credential-store';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded';
import type { HubConfig } from './config';
import { AgentRoutes } from './agent-routes';
import { DesiredPublisher } from './desired-publisher';
import { HubError } from './errors';
import { homeAssistant, type HomeAssistant } from './home-assistant/ha-part';
import { Executor } from './executor';
import { CleanupPreviewer } from './executor/cleanup-preview';
import { Ingest } from './ingest/ingest';
import { HubMetrics } from './metrics/hub-metrics';
import { listenOpenMetrics } from './metrics/open-listener';
import { createHubLink, type HubLink } from './mqtt/hub-link';
import { NodeAliases } from './node-aliases';
import { Observer } from './observer/observer';
import { HistoryLoop, WorldHistory } from './history';
import { ServiceStatePublisher } from './service-state-publisher';
import { Supervisor } from './supervisor';
import { buildWebServer } from './web/server';
import { loadOrCreateAuth } from './web/auth/auth-file';
import { AuthState } from './web/auth/auth-state';
import { LiveBus } from './web/live';
import { NotifyingActionStore } from './web/notifying-store';
import { buildNotifier, loadNotifyConfig, type Notifier } from './notify';
import { refuseNewerDataRoot, upgradeDataRoot } from './upgrade';

export interface RunningHub {
  httpUrl: string;
  mqttUrl: string;
  /** The open /metrics listener (--metrics-port), when configured. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/**
 * Builds the real hub: broker (embedded or external), event log, observer,
 * supervisor, executor, web. The only place besides the CLI that creates
 * real clients (guide: "only main builds real clients").
 */
export async function startHub(config: HubConfig, log: Logger, clock: Clock = systemClock): Promise<RunningHub> {
  // A root written by a newer version is refused before anything is written to it, the lock included (docs/upgrade.md).
  await refuseNewerDataRoot(config.root);
  // One hub per data root, never beside `homelab replay` (docs/observer-runtime.md "Replay").
  let lock: RootLock;
  try {
    lock = await acquireRootLock(config.root, { owner: 'hub', log: log.child({ part: 'lock' }), takeOverForeign: true, now: () => clock.now() });
  } catch (err) {
    if (err instanceof RootLockedError) throw new HubError('conflict', `${err.message}; stop the other hub or homelab replay first`, { cause: err });
    throw err;
  }
  // Whatever starts from here on is stopped in reverse order, on stop or when a later step fails (docs/hub-lifecycle.md).
  const started = new StartedParts('hub');
  started.add('root lock', () => lock.release());
  try {
    return await startLocked(config, log, clock, started);
  } catch (err) {
    await started.closeAll(log);
    throw err;
  }
}

async function startLocked(config: HubConfig, log: Logger, clock: Clock, started: StartedParts): Promise<RunningHub> {
  // A wrong notifications.yaml stops the start with the field named (docs/notifications.md).
  const notifyConfig = await loadNotifyConfig(config.root, process.env);
  // Older layouts are brought up to date before any part reads the root (docs/upgrade.md, "Upgrade").
  await upgradeDataRoot(config.root, { log: log.child({ part: 'upgrade' }), now: () => clock.now() });
  let broker: EmbeddedBroker | undefined;
  let mqttUrl = config.mqttUrl;
  // What the hub and Home Assistant may do under the discovery prefix (docs/home-assistant.md).
  const haAcl: HaAclOptions = { discoveryPrefix: config.haDiscoveryPrefix, approveButtons: config.haApproveButtons };
  if (!mqttUrl) {
    broker = await startEmbeddedBroker({
      host: config.mqttHost,
      port: config.mqttPort,
      maxPayloadBytes: config.maxPayloadBytes,
      log: log.child({ part: 'broker' }),
      credentials: await loadCredentialStore(config.root, log.child({ part: 'broker' })),
      allowAnonymous: config.allowAnonymous,
      rateLimit: { perSec: config.mqttRateLimit, burst: config.mqttRateBurst },
      homeAssistant: haAcl,
      ...(config.mqttTlsCert && config.mqttTlsKey
        ? { tls: { host: config.mqttHost, port: config.mqttTlsPort, certFile: config.mqttTlsCert, keyFile: config.mqttTlsKey } }
        : {}),
    });
    mqttUrl = broker.url;
    started.add('mqtt broker', () => broker!.close());
  }
  const aliases = new NodeAliases(config.aliases);
  const routes = new AgentRoutes(aliases);

  const eventLog = new FsEventLog({ root: config.root, log: log.child({ part: 'event-log' }), clock });
  await eventLog.open();
  started.add('event log', () => eventLog.close());
  // The reader never reads past what the log has committed (a failed write is cut back).
  const reader = new FsEventLogReader({ root: config.root, log: log.child({ part: 'event-log' }), committed: eventLog });
  // Every action change made in this process also reaches the UI's live stream.
  const live = new LiveBus();
  let notifier: Notifier | undefined;
  // Home Assistant discovery, when enabled: its own loop, kicked by every change it shows.
  let ha: HomeAssistant | undefined;
  // Read when scraped (docs/metrics.md); the parts it reads are built below, before the web server listens.
  const metrics: HubMetrics = new HubMetrics({
    world: () => observer.world(),
    findings: () => supervisor.findings(),
    actions: () => store.list(),
    ingest: () => ingest.counters.snapshot(),
    mqttConnected: () => link?.connected() ?? false,
    mqttClients: () => broker?.connectedClients() ?? null,
    eventLogBytes: () => logBytesOnDisk(config.root),
    clockOffsetMs: (node) => observer.foldedWorld().nodes[aliases.canonical(node)]?.clocks?.[node]?.offsetMs ?? 0,
    now: () => clock.now().getTime(),
  });
  const store = new NotifyingActionStore(
    new FsActionStore({ root: config.root, log: log.child({ part: 'actions' }) }),
    () => {
      live.changed('actions');
      notifier?.kick();
      ha?.publisher.kick();
    },
    (action) => metrics.actionTransitioned(action),
  );
  await store.init();
  const authWeb = await loadOrCreateAuth(config.root, { adminPasswordHash: config.adminPasswordHash });
  if (authWeb.createdCredentialsFile)
    log.warn(
      { file: authWeb.createdCredentialsFile },
      `first start: UI login 'admin' and API tokens generated; read them in ${authWeb.createdCredentialsFile}`,
    );

  let link: HubLink | undefined;
  const publish = (topic: string, payload: unknown, opts?: { qos?: 0 | 1; retain?: boolean }) =>
    link ? link.publish(topic, payload, opts) : Promise.reject(new Error('mqtt link not created yet'));
  // Actions name the canonical node; the command goes to the name its agent runs under (docs/node-aliases.md).
  const publishCommand = (cmd: Command) => {
    const routed = routes.route(cmd);
    return publish(routed.topic, routed.command, flagsOf('commands'));
  };

  const statePublisher = new ServiceStatePublisher((t, p) => publish(t, p, flagsOf('serviceState')));
  // Desired state is unknown (null: nothing pruned) until the supervisor's first load.
  let desiredLoaded = false;
  const observer = new Observer({
    root: config.root,
    reader,
    clock,
    log: log.child({ part: 'observer' }),
    aliases: config.aliases,
    ttl: { serviceTtlMs: config.serviceTtlMs, nodeTtlMs: config.nodeTtlMs },
    desired: () => (desiredLoaded ? supervisor.desired() : null),
    // The supervisor reads the view from memory: it need not wait for the world files' fsyncs (docs/supervisor.md "One cycle").
    onViewChanged: () => supervisor.kick(),
    onChange: (world) => {
      live.changed('world');
      ha?.publisher.kick();
      void statePublisher.sync(world).catch((err: unknown) => log.warn({ err }, 'could not publish service state'));
    },
  });
  await observer.init();
  // Ingest kicks the observer, and results reach the executor, as soon as the link is up: before the loops start.
  started.add('observer', () => observer.stop());

  const executor = new Executor({
    store,
    publishCommand: (cmd: Command) => publishCommand(cmd),
    clock,
    log: log.child({ part: 'executor' }),
    commandTimeoutMs: config.commandTimeoutMs,
  });
  started.add('executor', () => executor.stop());
  const previewer = new CleanupPreviewer({
    store,
    publishCommand: (cmd: Command) => publishCommand(cmd),
    clock,
    log: log.child({ part: 'cleanup-preview' }),
  });
  const desiredPublisher = new DesiredPublisher((t, p) => publish(t, p, flagsOf('desired')), aliases);
  const supervisor: Supervisor = new Supervisor({
    hostsDir: config.hostsDir,
    store,
    world: () => observer.world(),
    clock,
    log: log.child({ part: 'supervisor' }),
    aliases: config.aliases,
    onDesired: (desired) => {
      desiredLoaded = true;
      observer.kick(); // the view depends on it (ghost pruning); a no-op when nothing changed
      ha?.publisher.kick();
      void desiredPublisher
        .sync(desired, clock.now(), Object.keys(observer.world().nodes))
        .catch((err: unknown) => log.warn({ err }, 'could not publish desired state'));
    },
    onApproved: () => executor.kick(),
    onCycle: (ms) => metrics.supervisorCycled(ms / 1000),
    hostTempFindingC: config.hostTempFindingC,
  });

  // Catch up on what the log holds beyond the checkpoint before taking new messages.
  const catchUpStarted = performance.now();
  const caughtUp = await observer.runOnce();
  // Without a checkpoint this is a replay of the whole log (docs/observer-runtime.md): its end and duration belong in the start log.
  log.info({ part: 'observer', applied: caughtUp.applied, ms: Math.round(performance.now() - catchUpStarted) }, 'observer caught up with the event log');

  const ingest = new Ingest({
    eventLog,
    publish,
    onWritten: (written) => {
      observer.kick();
      live.events(written);
      metrics.eventsWritten(written);
    },
    // A dry run (disk_cleanup preview) answers the previewer, never the action's execution.
    onResult: (result) => {
      const r = routes.canonicalResult(result);
      return r.dryRun ? previewer.handleResult(r) : executor.handleResult(r);
    },
    // The fold, not the view: a node pruned as a ghost still has its last known session.
    nodeStatus: (node) => {
      const nodes = observer.foldedWorld().nodes;
      const canonical = aliases.canonical(node);
      return Object.hasOwn(nodes, canonical) ? nodes[canonical] : undefined;
    },
    // A command sent while the agent was away may have been dropped: send it again now (executor.ts).
    onBirth: (node) => void executor.nodeOnline(aliases.canonical(node)),
    clock,
    log: log.child({ part: 'ingest' }),
    maxPayloadBytes: config.maxPayloadBytes,
  });
  if (config.haDiscovery)
    ha = homeAssistant({
      ha: haAcl,
      world: () => observer.world(),
      desired: () => (desiredLoaded ? supervisor.desired() : null),
      store,
      onDecision: () => executor.kick(),
      publish: (topic, payload) => publish(topic, payload, { qos: 1, retain: true }),
      clock,
      log: log.child({ part: 'home-assistant' }),
      maxPayloadBytes: config.maxPayloadBytes,
    });
  const inbound = new Set<Promise<void>>();
  const hubLink = createHubLink({
    url: mqttUrl,
    username: config.mqttUsername,
    password: config.mqttPassword,
    log: log.child({ part: 'mqtt' }),
    extraSubscriptions: ha?.subscriptions ?? [],
    onMessage: (topic, payload) => {
      if (ha?.route(topic, payload)) return;
      routes.heard(topic, payload);
      // Messages of one batch share one promise (ingest.ts): track each promise once, not each message.
      const handled = ingest.handle(topic, payload);
      if (inbound.has(handled)) return;
      inbound.add(handled);
      void handled.finally(() => inbound.delete(handled));
    },
    // With the embedded broker the hub attaches in process (no TCP loop to itself).
    embedded: broker,
  });
  link = hubLink;
  // Closed before the event log: no message comes in after, and the ones being handled finish first.
  started.add('mqtt link', async () => {
    await hubLink.close();
    await Promise.all(inbound);
  });
  try {
    await link.waitConnected();
  } catch (err) {
    throw new HubError('broker_unreachable', `${(err as Error).message}; check --mqtt-url (HOMELAB_MQTT_URL)`, { cause: err });
  }
  // What the catch-up fold changed could not be published before the link existed.
  void statePublisher.linkUp(observer.world()).catch((err: unknown) => log.warn({ err }, 'could not publish service state'));

  const web = buildWebServer({
    root: config.root,
    hostsDir: config.hostsDir,
    onDesiredWritten: () => supervisor.kick(),
    onProposed: () => previewer.kick(),
    auth: new AuthState(config.root, authWeb.auth, log.child({ part: 'auth' }), { adminPasswordHash: config.adminPasswordHash }),
    live,
    world: () => observer.world(),
    desired: () => supervisor.desired(),
    problems: () => supervisor.problems(),
    findings: () => supervisor.findings(),
    store,
    onDecision: () => executor.kick(),
    metrics,
    health: () => ({
      mqttConnected: link?.connected() ?? false,
      ingest: ingest.counters.snapshot(),
      brokerClients: broker?.connectedClients() ?? null,
      notifiers: notifier?.healthOf() ?? {},
      broker: broker?.counters() ?? null,
      homeAssistant: ha?.counters() ?? null,
    }),
    notices: () => notifier?.problems() ?? [],
    history: new WorldHistory({
      root: config.root,
      reader,
      aliases: config.aliases,
      ttl: { serviceTtlMs: config.serviceTtlMs, nodeTtlMs: config.nodeTtlMs },
      desired: () => (desiredLoaded ? supervisor.desired() : undefined),
    }),
    telegramWebhook: (token, update) => notifier?.telegramWebhook(token, update) ?? Promise.resolve(null),
    log,
  });
  try {
    await web.listen({ host: config.httpHost, port: config.httpPort });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new HubError('port_in_use', `HTTP port ${config.httpPort} on ${config.httpHost} is already in use; set --http-port (HOMELAB_HTTP_PORT)`, {
        cause: err,
      });
    }
    throw err;
  }
  started.add('web server', () => web.close());
  const addr = web.server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : config.httpPort;

  let metricsUrl: string | undefined;
  if (config.metricsPort !== undefined) {
    let open;
    try {
      open = await listenOpenMetrics(metrics, { host: config.metricsHost, port: config.metricsPort, log: log.child({ part: 'metrics' }) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new HubError(
          'port_in_use',
          `metrics port ${config.metricsPort} on ${config.metricsHost} is already in use; set --metrics-port (HOMELAB_METRICS_PORT)`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    started.add('metrics listener', () => open.close());
    metricsUrl = `http://${config.metricsHost}:${open.port}/metrics`;
    log.warn({ url: metricsUrl }, '/metrics is served without credentials on this address (--metrics-port)');
  }

  await supervisor.runOnce();
  const retention = new RetentionLoop({ root: config.root, clock, log: log.child({ part: 'retention' }), olderThanDays: config.retentionCompressDays });
  // Each loop's stop waits for its cycle in progress, so none writes after the lock is released;
  // the loops stop first, while the link and the web server still serve them.
  observer.start(config.observerIntervalMs);
  started.add('observer loop', () => observer.stop());
  retention.start(config.retentionIntervalMs);
  started.add('retention loop', () => retention.stop());
  if (config.historyIntervalMs > 0) {
    const history = new HistoryLoop({
      root: config.root,
      reader,
      clock,
      log: log.child({ part: 'history' }),
      aliases: config.aliases,
      intervalMs: config.historyIntervalMs,
      retentionMs: config.historyRetentionDays * 86_400_000,
    });
    history.start(Math.min(config.historyIntervalMs, 10 * 60_000));
    started.add('history loop', () => history.stop());
  }
  supervisor.start(config.supervisorIntervalMs);
  started.add('supervisor loop', () => supervisor.stop());
  executor.start(config.executorIntervalMs);
  started.add('executor loop', () => executor.stop());
  previewer.start(config.supervisorIntervalMs);
  started.add('cleanup previewer loop', () => previewer.stop());
  if (notifyConfig) {
    // Its own loop: a slow or dead notifier never holds up ingest or the supervisor (docs/notifications.md "Delivery").
    notifier = buildNotifier({
      root: config.root,
      config: notifyConfig,
      store,
      nodes: () => observer.world().nodes,
      clock,
      log: log.child({ part: 'notifier' }),
      onDecision: () => executor.kick(),
      onDeliveryFailed: (name) => metrics.notifierFailed(name),
    }).notifier;
    await notifier.init();
    notifier.start(config.notifyIntervalMs);
    const running = notifier;
    started.add('notifier loop', () => running.stop());
  }
  if (ha) {
    const haLoop = ha.publisher;
    haLoop.start(config.supervisorIntervalMs);
    started.add('home assistant loop', () => haLoop.stop());
  }
  log.info({ http: `http://${config.httpHost}:${httpPort}`, mqtt: mqttUrl, root: config.root, hosts: config.hostsDir, metrics: metricsUrl }, 'hub running');

  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    mqttUrl,
    ...(metricsUrl ? { metricsUrl } : {}),
    stop: () => started.closeAll(log),
  };
}
