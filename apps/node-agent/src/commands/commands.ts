import { z } from 'zod';
import {
  ActionId,
  CLOCK_SKEW_FINDING_MS,
  Command,
  CommandResult,
  ComposeSpec,
  NodeName,
  containersOf,
  decode,
  decodePayload,
  publish,
  type Clock,
  type ServiceSpec,
} from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { composeEnv, composeRedeployArgv, execFileCompose, type ComposeRunner } from './compose';
import { previewCleanup, runCleanup } from './disk-cleanup';
import type { CleanupDockerPort, DockerPort } from '../docker/docker-port';
import { errorMessage } from '../errors';
import { HubClock } from './hub-clock';
import type { InboundCounters } from '../delivery/inbound';
import type { CommandJournal, JournalEntry } from './journal';
import type { MqttLink } from '../delivery/mqtt-port';
import { composeFileRefusal } from './stack-roots';

/** Error codes of refused or failed commands (CommandResult.error.code). */
export type CommandErrorCode =
  | 'invalid_command'
  | 'wrong_node'
  | 'unsupported'
  | 'unknown_service'
  | 'not_monitored'
  | 'deadline_exceeded'
  | 'superseded'
  | 'interrupted'
  | 'journal_unavailable'
  | 'journal_corrupt'
  | 'docker_failed'
  | 'not_configured'
  | 'compose_file_refused'
  | 'compose_failed'
  | 'compose_timeout'
  | 'cleanup_partial'
  | 'agent_error';

export interface CommandHandlerDeps {
  node: string;
  /** The spec of a desired service, or undefined when absent (see DesiredCache.monitored). */
  desiredSpec: (service: string) => ServiceSpec | undefined;
  docker: Pick<DockerPort, 'restartContainer'>;
  /** Docker calls of disk_cleanup; without it disk_cleanup is refused as unsupported. */
  cleanupDocker?: CleanupDockerPort;
  /** Every desired service of this node (monitor: false ones too), for disk_cleanup's "belongs to no desired service". */
  desiredServices?: () => Record<string, ServiceSpec> | undefined;
  /** Runs docker-compose for redeploy (default: execFile, argv array, no shell). */
  runCompose?: ComposeRunner;
  /** The agent's Docker socket; compose gets DOCKER_HOST=unix://<it>. */
  dockerSocket?: string;
  /** Folders whose compose files redeploy may run (AgentConfig.stackRoots); any other file is refused before exec. */
  stackRoots: readonly string[];
  /** Environment compose inherits (default process.env). */
  env?: NodeJS.ProcessEnv;
  journal: CommandJournal;
  link: Pick<MqttLink, 'publish'>;
  clock: Clock;
  log: Logger;
  counters: InboundCounters;
  /** Slack when checking a deadline against the hub's time as the agent knows it (HubClock). */
  clockSkewMs: number;
  /** The hub's time, learned from the commands' `issuedAt`; default: one fed by this handler. */
  hubClock?: HubClock;
  stopTimeoutSec: number;
  maxPayloadBytes: number;
}

const OUTPUT_MAX = 16_384;
/** Compose is killed this long before the command's deadline, so its failure still reaches the hub in time. */
const COMPOSE_DEADLINE_MARGIN_MS = 5_000;
const COMPOSE_MIN_TIMEOUT_MS = 10_000;
const COMPOSE_MAX_TIMEOUT_MS = 30 * 60_000;
const Addressable = z.object({ actionId: ActionId, node: NodeName });

/**
 * Runs hub commands at most once per action (occurrence): container_restart
 * (Docker API), redeploy (docker-compose, argv array, see compose.ts) and
 * disk_cleanup (see disk-cleanup.ts). Refusals answer a `failed` CommandResult
 * and run nothing: another node, a service outside the desired state or
 * `monitor: false`, a redeploy without `compose` (`not_configured`), a passed
 * deadline. Executions are journaled (`started` before running, `done` before
 * publishing); a redelivered command is answered from the journal with
 * `replayed: true`, and one found `started` by a new process answers
 * `interrupted` instead of running again.
 */
export class CommandHandler {
  private readonly perAction = new Map<string, Promise<unknown>>();
  private readonly hubClock: HubClock;
  /**
   * Compose runs per compose project, one at a time: docker-compose v1 lists the
   * project's containers and then acts on them, so two concurrent runs in one
   * project remove each other's containers ("No such container").
   */
  private readonly perProject = new Map<string, Promise<unknown>>();
  executed = 0;

  constructor(private readonly deps: CommandHandlerDeps) {
    this.hubClock = deps.hubClock ?? new HubClock();
  }

  /** Handles one message of the commands topic; resolves with the result it published. Never throws. */
  async handle(topic: string, payload: Buffer): Promise<CommandResult | null> {
    const { log, counters, node } = this.deps;
    try {
      const decoded = decode('commands', payload, this.deps.maxPayloadBytes);
      if (!decoded.ok) {
        counters.reject(log, decoded.reason, topic, payload, decoded.detail);
        const addr = decoded.reason === 'too_large' ? null : decodePayload(payload, Addressable, this.deps.maxPayloadBytes);
        if (addr?.ok && addr.data.node === node) return await this.answer(this.refusal(addr.data.actionId, 'invalid_command', 'the command failed validation'));
        return null;
      }
      const cmd = decoded.data;
      this.learnHubTime(cmd);
      if (cmd.node !== node) {
        counters.reject(log, 'wrong_node', topic, payload);
        return await this.answer(this.refusal(cmd.actionId, 'wrong_node', `command is for node ${cmd.node}, this is ${node}`), cmd);
      }
      // A dry run changes nothing, so it bypasses the journal and the per-action queue.
      if (cmd.dryRun) return await this.answer(await this.preview(cmd), cmd);
      // One at a time per action id, so a redelivery waits for the running execution and replays it.
      return await serialized(this.perAction, cmd.actionId, () => this.process(cmd));
    } catch (err) {
      log.error({ err: errorMessage(err), topic }, 'command handling failed');
      return null;
    }
  }

  private async process(cmd: Command): Promise<CommandResult> {
    const { journal, log } = this.deps;
    const found = await journal.get(cmd.actionId);
    if (found.kind === 'corrupt') {
      log.error({ actionId: cmd.actionId, problem: found.problem }, 'journal entry unreadable; not running the command');
      return this.finish(cmd, this.refusal(cmd.actionId, 'journal_corrupt', 'the journal entry of this action is unreadable; check the node'));
    }
    if (found.kind === 'entry') {
      const verdict = compareOccurrence(found.entry, cmd);
      if (verdict === 'older') return this.answer(this.refusal(cmd.actionId, 'superseded', 'a later action with this id was already handled'), cmd);
      const entry = found.entry;
      if (verdict === 'same' && entry.state === 'done') {
        log.info({ actionId: cmd.actionId }, 'command seen before; answering from the journal');
        return this.answer({ ...entry.result, replayed: true });
      }
      if (verdict === 'same' && entry.state === 'started') {
        // Calls are serialized per action id, so a `started` entry is from an earlier process.
        log.warn({ actionId: cmd.actionId }, 'command was running when the agent stopped; not running it again');
        const interrupted = this.refusal(cmd.actionId, 'interrupted', 'the agent stopped while this command ran; check the containers');
        return this.finish(cmd, { ...interrupted, startedAt: entry.startedAt });
      }
    }
    const refused = this.check(cmd);
    if (refused) return this.answer(refused, cmd);

    const startedAt = this.deps.clock.now().toISOString();
    try {
      await journal.markStarted(cmd, startedAt);
    } catch (err) {
      return this.answer(this.refusal(cmd.actionId, 'journal_unavailable', `cannot journal the command, so it does not run: ${errorMessage(err)}`), cmd);
    }
    this.executed += 1;
    let result: CommandResult;
    try {
      result = await this.execute(cmd, startedAt);
    } catch (err) {
      // A fault of the agent itself must still end the journaled run with an answer,
      // not leave it `started` until a restart reports it as interrupted.
      this.deps.log.error({ err, actionId: cmd.actionId }, 'command failed inside the agent');
      result = this.result(cmd.actionId, 'failed', startedAt, [], {
        code: 'agent_error',
        message: `the agent failed while running the command: ${errorMessage(err)}`,
      });
    }
    return this.finish(cmd, result);
  }

  /** Feeds the command's hub stamp to the hub clock; says so when this node's clock is off the hub's. */
  private learnHubTime(cmd: Command): void {
    this.hubClock.observe(Date.parse(cmd.issuedAt));
    const offsetMs = this.hubClock.offsetMs(this.deps.clock.now().getTime());
    if (offsetMs !== null && Math.abs(offsetMs) > CLOCK_SKEW_FINDING_MS) {
      this.deps.log.warn(
        { offsetMs, actionId: cmd.actionId },
        "this node's clock is off the hub's; deadlines are judged in the hub's time, but fix the clock (NTP)",
      );
    }
  }

  /** The hub's time now as far as this agent knows it: deadlines are the hub's, and this clock may be skewed. */
  private hubNow(): number {
    return this.hubClock.now() ?? this.deps.clock.now().getTime();
  }

  /** Refusals that need no journal: deadline, type, service. */
  private check(cmd: Command): CommandResult | null {
    if (this.hubNow() > Date.parse(cmd.deadline) + this.deps.clockSkewMs) {
      return this.refusal(cmd.actionId, 'deadline_exceeded', `received after its deadline ${cmd.deadline} (hub time)`);
    }
    if (cmd.type === 'disk_cleanup') {
      if (!this.deps.cleanupDocker || !this.deps.desiredServices) return this.refusal(cmd.actionId, 'unsupported', 'this agent cannot run disk_cleanup');
      if (!this.deps.desiredServices())
        return this.refusal(cmd.actionId, 'not_configured', 'no desired state received yet, so nothing can be told apart as unneeded');
      return null;
    }
    if (!cmd.service) return this.refusal(cmd.actionId, 'unknown_service', `${cmd.type} needs a service`);
    const spec = this.deps.desiredSpec(cmd.service);
    if (!spec) return this.refusal(cmd.actionId, 'unknown_service', `service ${cmd.service} is not in this node's desired state`);
    if (!spec.monitor) return this.refusal(cmd.actionId, 'not_monitored', `service ${cmd.service} is monitor: false`);
    if (cmd.type === 'redeploy' && !spec.compose) {
      return this.refusal(cmd.actionId, 'not_configured', `service ${cmd.service} has no compose settings in services.yaml, so it cannot be redeployed`);
    }
    return null;
  }

  private execute(cmd: Command, startedAt: string): Promise<CommandResult> {
    switch (cmd.type) {
      case 'container_restart':
        return this.restart(cmd, startedAt);
      case 'redeploy':
        return this.redeploy(cmd, startedAt);
      case 'disk_cleanup':
        return this.cleanup(cmd, startedAt);
    }
  }

  private async redeploy(cmd: Command, startedAt: string): Promise<CommandResult> {
    const spec = this.deps.desiredSpec(cmd.service!)!;
    let inv;
    try {
      inv = composeRedeployArgv(cmd.service!, spec.compose);
    } catch (err) {
      return this.result(cmd.actionId, 'failed', startedAt, [], { code: 'not_configured', message: `invalid compose settings: ${errorMessage(err)}` });
    }
    const refusal = await composeFileRefusal(spec.compose!.file, this.deps.stackRoots);
    if (refusal) {
      this.deps.log.warn({ actionId: cmd.actionId, service: cmd.service, file: spec.compose!.file }, 'compose file refused; nothing run');
      return this.result(cmd.actionId, 'failed', startedAt, [], { code: 'compose_file_refused', message: refusal });
    }
    const base = this.deps.env ?? process.env;
    const env = this.deps.dockerSocket ? composeEnv(base, this.deps.dockerSocket) : base;
    const run = this.deps.runCompose ?? execFileCompose;
    let timeoutMs = 0;
    const outcome = await serialized(this.perProject, ComposeSpec.parse(spec.compose).project, () => {
      // Measured once its turn came: the wait for another run of the project comes out of the deadline.
      const left = Date.parse(cmd.deadline) - this.hubNow() - COMPOSE_DEADLINE_MARGIN_MS;
      timeoutMs = Math.min(COMPOSE_MAX_TIMEOUT_MS, Math.max(COMPOSE_MIN_TIMEOUT_MS, left));
      return run(inv, { env, timeoutMs });
    });
    const lines = [`$ ${inv.file} ${inv.args.join(' ')}`, outcome.output.trimEnd()];
    this.deps.log.info({ actionId: cmd.actionId, service: cmd.service, exitCode: outcome.exitCode, timedOut: outcome.timedOut }, 'compose redeploy finished');
    if (outcome.ok) return this.result(cmd.actionId, 'completed', startedAt, lines);
    if (outcome.timedOut)
      return this.result(cmd.actionId, 'failed', startedAt, lines, { code: 'compose_timeout', message: `${inv.file} killed after ${timeoutMs} ms` });
    const why = outcome.spawnError ? `could not start ${inv.file}: ${outcome.spawnError}` : `${inv.file} exited with ${outcome.exitCode}`;
    return this.result(cmd.actionId, 'failed', startedAt, lines, { code: 'compose_failed', message: why });
  }

  private async cleanup(cmd: Command, startedAt: string): Promise<CommandResult> {
    try {
      const run = await runCleanup(this.deps.cleanupDocker!, this.deps.desiredServices!() ?? {}, { removeVolumes: cmd.removeVolumes });
      this.deps.log.info({ actionId: cmd.actionId, reclaimed: run.report.reclaimedBytes, removed: run.report.removed.length }, 'disk cleanup finished');
      const error = run.failures > 0 ? { code: 'cleanup_partial', message: `${run.failures} removals failed; see the output` } : undefined;
      return { ...this.result(cmd.actionId, error ? 'failed' : 'completed', startedAt, run.lines, error), cleanup: run.report };
    } catch (err) {
      return this.result(cmd.actionId, 'failed', startedAt, [], { code: 'docker_failed', message: errorMessage(err) });
    }
  }

  /** What a disk_cleanup would do now; refuses like the real command would (deadline, support, desired state). */
  private async preview(cmd: Command): Promise<CommandResult> {
    const refused = cmd.type === 'disk_cleanup' ? this.check(cmd) : this.refusal(cmd.actionId, 'unsupported', `no dry run for ${cmd.type}`);
    if (refused) return { ...refused, dryRun: true };
    const startedAt = this.deps.clock.now().toISOString();
    try {
      const { report, lines } = await previewCleanup(this.deps.cleanupDocker!, this.deps.desiredServices!() ?? {}, { removeVolumes: cmd.removeVolumes });
      return { ...this.result(cmd.actionId, 'completed', startedAt, lines), cleanup: report, dryRun: true };
    } catch (err) {
      return { ...this.result(cmd.actionId, 'failed', startedAt, [], { code: 'docker_failed', message: errorMessage(err) }), dryRun: true };
    }
  }

  private async restart(cmd: Command, startedAt: string): Promise<CommandResult> {
    const spec = this.deps.desiredSpec(cmd.service!)!;
    const lines: string[] = [];
    for (const name of containersOf(cmd.service!, spec)) {
      try {
        await this.deps.docker.restartContainer(name, this.deps.stopTimeoutSec);
        lines.push(`restarted ${name}`);
      } catch (err) {
        lines.push(`restart ${name} failed: ${errorMessage(err)}`);
        return this.result(cmd.actionId, 'failed', startedAt, lines, { code: 'docker_failed', message: errorMessage(err) });
      }
    }
    this.deps.log.info({ actionId: cmd.actionId, service: cmd.service }, 'containers restarted');
    return this.result(cmd.actionId, 'completed', startedAt, lines);
  }

  /** Journals the final result, then publishes it. */
  private async finish(cmd: Command, outcome: CommandResult): Promise<CommandResult> {
    const result = withOccurrence(outcome, cmd);
    try {
      await this.deps.journal.complete(result, cmd.actionCreatedAt);
    } catch (err) {
      this.deps.log.error({ err: errorMessage(err), actionId: cmd.actionId }, 'could not journal the result');
    }
    return this.answer(result);
  }

  /** Publishes a result (QoS 1), echoing the command's actionCreatedAt when known. */
  private async answer(result: CommandResult, cmd?: Command): Promise<CommandResult> {
    const valid = CommandResult.parse(cmd ? withOccurrence(result, cmd) : result);
    await publish(this.deps.link, 'results', [this.deps.node], valid).catch((err: unknown) =>
      this.deps.log.warn({ err: errorMessage(err), actionId: valid.actionId }, 'could not publish result; the hub resends and gets it replayed'),
    );
    return valid;
  }

  private refusal(actionId: string, code: CommandErrorCode, message: string): CommandResult {
    const now = this.deps.clock.now().toISOString();
    return this.result(actionId, 'failed', now, [], { code, message });
  }

  private result(actionId: string, status: CommandResult['status'], startedAt: string, lines: string[], error?: CommandResult['error']): CommandResult {
    const output = lines.filter((l) => l !== '').join('\n');
    return {
      actionId,
      node: this.deps.node,
      status,
      startedAt,
      finishedAt: this.deps.clock.now().toISOString(),
      output: output.length > OUTPUT_MAX ? output.slice(-OUTPUT_MAX) : output,
      ...(error ? { error: { code: error.code, message: error.message.slice(0, 1000) } } : {}),
    };
  }
}

/** Runs `fn` after every earlier call with the same key has settled (per-key FIFO, in this process). */
function serialized<T>(tails: Map<string, Promise<unknown>>, key: string, fn: () => Promise<T>): Promise<T> {
  const run = (tails.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

function withOccurrence(result: CommandResult, cmd: Command): CommandResult {
  return cmd.actionCreatedAt && !result.actionCreatedAt ? { ...result, actionCreatedAt: cmd.actionCreatedAt } : result;
}

/**
 * Same action occurrence, an older one, or a newer one with a reused id. When
 * either side lacks actionCreatedAt it counts as the same (never run twice).
 */
export function compareOccurrence(entry: JournalEntry, cmd: Command): 'same' | 'older' | 'newer' {
  const stored = entry.actionCreatedAt;
  const incoming = cmd.actionCreatedAt;
  if (!stored || !incoming || Date.parse(stored) === Date.parse(incoming)) return 'same';
  return Date.parse(incoming) < Date.parse(stored) ? 'older' : 'newer';
}
