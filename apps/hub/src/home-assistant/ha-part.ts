import type { ActionStore } from '@homelab/action-store';
import {
  grantCovers,
  HaBirthPayload,
  haGrants,
  haTopic,
  type Action,
  type Clock,
  type HaAclOptions,
  type HostServicesFile,
  type World,
} from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { handleApprovePress, type PressOutcome } from './approve-press';
import { HaPublisher } from './ha-publisher';

export interface HomeAssistantDeps {
  ha: HaAclOptions;
  world: () => World;
  desired: () => Record<string, HostServicesFile> | null;
  store: ActionStore;
  /** Wakes the executor after an approval. */
  onDecision: () => void;
  /** Retained QoS 1 publish. */
  publish: (topic: string, payload: string) => Promise<void>;
  clock: Clock;
  log: Logger;
  maxPayloadBytes: number;
}

/** Home Assistant discovery as the hub runs it (docs/home-assistant.md): the publisher and what the hub hears from HA. */
export interface HomeAssistant {
  publisher: HaPublisher;
  /** Filters the hub's MQTT link subscribes to for it (haGrants). */
  subscriptions: string[];
  /** Handles a message of HA's channels; false for any other topic (it goes to ingest). */
  route(topic: string, payload: Buffer): boolean;
  /** Since start, for GET /healthz. */
  counters(): HomeAssistantCounters;
}

export interface HomeAssistantCounters {
  /** Retained messages published (configs, removals, node states). */
  published: number;
  births: number;
  pressesApproved: number;
  /** Presses refused: buttons off, action not pending, or a button of an earlier action. */
  pressesRefused: number;
  /** Status or press payloads that were not what HA_CHANNELS says. */
  invalid: number;
}

export function homeAssistant(deps: HomeAssistantDeps): HomeAssistant {
  const { log } = deps;
  const publisher = new HaPublisher({
    ...deps.ha,
    world: deps.world,
    desired: deps.desired,
    pending: (): Promise<Action[]> => deps.store.list('pending'),
    publish: deps.publish,
    clock: deps.clock,
    log,
  });
  const birth = haTopic('birth', deps.ha);
  const approve = haTopic('approve', deps.ha);
  const configs = haTopic('discovery', deps.ha);
  const underPrefix = `${deps.ha.discoveryPrefix}/`;
  const counts = { births: 0, pressesApproved: 0, pressesRefused: 0, invalid: 0 };
  const pressed = (outcome: PressOutcome) => {
    if (outcome === 'approved') counts.pressesApproved++;
    else if (outcome === 'invalid') counts.invalid++;
    else counts.pressesRefused++;
  };
  return {
    publisher,
    subscriptions: haGrants('hub', deps.ha).subscribe,
    route(topic, payload) {
      if (topic === approve) {
        void handleApprovePress(payload, {
          enabled: deps.ha.approveButtons,
          store: deps.store,
          onDecision: deps.onDecision,
          clock: deps.clock,
          log,
          maxPayloadBytes: deps.maxPayloadBytes,
        }).then(pressed);
        return true;
      }
      // Every agent topic stops here: the prefix never lies under homelab/ (DiscoveryPrefix).
      if (!topic.startsWith(underPrefix)) return false;
      if (topic === birth) {
        const status = HaBirthPayload.safeParse(payload.toString('utf8'));
        if (!status.success) {
          counts.invalid++;
          log.warn({ topic, bytes: payload.length }, 'Home Assistant status is neither online nor offline: ignored');
        } else if (status.data === 'online') {
          counts.births++;
          publisher.birth();
        }
        return true;
      }
      if (grantCovers(configs, topic)) {
        publisher.seen(topic, payload);
        return true;
      }
      return false;
    },
    counters: () => ({ published: publisher.published, ...counts }),
  };
}
