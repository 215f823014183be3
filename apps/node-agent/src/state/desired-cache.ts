import path from 'node:path';
import { containersOf, decode, DesiredStateMessage, type ServiceSpec } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { errorMessage } from '../errors';
import { ensureDir, readJsonFile, writeJsonAtomic } from './fs-atomic';
import type { WatchedService } from '../watch/health';
import type { InboundCounters } from '../delivery/inbound';

export type DesiredUpdate = 'applied' | 'unchanged' | 'refused' | 'ignored';

export interface DesiredCacheOptions {
  node: string;
  stateDir: string;
  log: Logger;
  counters: InboundCounters;
  maxPayloadBytes: number;
}

/**
 * The node's desired services, from the retained `nodes/<node>/desired`
 * message, cached in `<stateDir>/desired.json` (atomic write) so a restarted
 * agent keeps watching without a hub. A message for another node is refused.
 */
export class DesiredCache {
  private msg: DesiredStateMessage | null = null;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly opts: DesiredCacheOptions) {}

  get file(): string {
    return path.join(this.opts.stateDir, 'desired.json');
  }

  /** Loads the cached copy; a missing or unreadable cache just means "nothing yet". */
  async load(): Promise<void> {
    await ensureDir(this.opts.stateDir);
    const res = await readJsonFile(this.file, DesiredStateMessage);
    if (res.kind === 'corrupt') {
      this.opts.log.warn({ file: this.file, problem: res.problem }, 'desired-state cache unreadable; waiting for the hub');
      return;
    }
    if (res.kind === 'ok') {
      if (res.value.node !== this.opts.node) {
        this.opts.log.warn({ file: this.file, node: res.value.node }, 'desired-state cache belongs to another node; ignored');
        return;
      }
      this.msg = res.value;
    }
  }

  current(): DesiredStateMessage | null {
    return this.msg;
  }

  /** The spec of a desired service the agent watches; undefined when absent or `monitor: false`. */
  monitored(service: string): ServiceSpec | undefined {
    const spec = this.msg?.services[service];
    return spec?.monitor ? spec : undefined;
  }

  /** Monitored services with their containers, sorted by name. */
  watched(): WatchedService[] {
    const services = this.msg?.services ?? {};
    return Object.keys(services)
      .sort()
      .filter((name) => services[name]!.monitor)
      .map((name) => {
        const probes = services[name]!.probes;
        return { name, containers: containersOf(name, services[name]!), ...(probes?.length ? { probes } : {}) };
      });
  }

  /** Handles one message from the desired topic. Never throws. */
  async accept(topic: string, payload: Buffer): Promise<DesiredUpdate> {
    const { log, counters, node } = this.opts;
    if (payload.length === 0) return 'ignored'; // a cleared retained message: keep what we have
    const decoded = decode('desired', payload, this.opts.maxPayloadBytes);
    if (!decoded.ok) {
      counters.reject(log, decoded.reason, topic, payload, decoded.detail);
      return 'refused';
    }
    if (decoded.data.node !== node) {
      counters.reject(log, 'wrong_node', topic, payload);
      return 'refused';
    }
    if (this.msg && this.msg.revision === decoded.data.revision) return 'unchanged';
    this.msg = decoded.data;
    // Serialized, and each write takes the newest state, so an older write can never land last.
    this.writes = this.writes.then(async () => {
      try {
        await writeJsonAtomic(this.file, this.msg);
      } catch (err) {
        // Keep running on the new state; only a restart without a hub would miss it.
        log.warn({ err: errorMessage(err), file: this.file }, 'could not cache desired state on disk');
      }
    });
    await this.writes;
    log.info({ revision: decoded.data.revision, services: Object.keys(decoded.data.services).length }, 'desired state applied');
    return 'applied';
  }
}
