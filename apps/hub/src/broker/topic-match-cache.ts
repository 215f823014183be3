/** Topics remembered per cache; agents publish on a few topics each, so this only bounds odd cases. */
const MAX_TOPICS = 4096;

type Fn = (...args: never[]) => unknown;

const queuedForNoOne: Promise<void> = Promise.resolve();

/** The parts of aedes used here: its emitter's matcher and its persistence (neither is in aedes' type declarations). */
interface AedesInternals {
  mq: { _matcher: { add: Fn; remove: Fn; match: (topic: string, ...rest: unknown[]) => unknown[] } };
  persistence: {
    subscriptionsByTopic: (topic: string) => Promise<unknown[]>;
    outgoingEnqueueCombi: (subs: unknown[], packet: unknown) => Promise<void>;
    addSubscriptions: Fn;
    removeSubscriptions: Fn;
    cleanSubscriptions: Fn;
  };
}

/**
 * Remembers, per topic, which subscriptions match it, until any subscription
 * changes. aedes matches every publication's topic against every filter
 * twice — once in its emitter (who gets the message now), once in its
 * persistence (whose session queues it) — each time splitting the topic and
 * walking a trie; agents publish on the same few topics all the time. That
 * was 6 % of the hub's CPU in the ingest benchmark (docs/benchmarks.md,
 * "Durable ingest"). Answers are the same arrays the matchers returned (no
 * caller changes them); any add, remove or clean empties the cache first.
 */
export function cacheTopicMatches(broker: object): void {
  const { mq, persistence } = broker as AedesInternals;
  const matcher = mq._matcher;
  const emitted = new Map<string, unknown[]>();
  const { add, remove, match } = matcher;
  matcher.add = (...args) => {
    emitted.clear();
    return add.apply(matcher, args);
  };
  matcher.remove = (...args) => {
    emitted.clear();
    return remove.apply(matcher, args);
  };
  matcher.match = (topic, ...rest) => {
    if (rest.length > 0) return match.call(matcher, topic, ...rest);
    let found = emitted.get(topic);
    if (found === undefined) {
      found = match.call(matcher, topic);
      if (emitted.size >= MAX_TOPICS) emitted.clear();
      emitted.set(topic, found);
    }
    return found;
  };

  // Persistence changes are asynchronous: an answer is kept only if no change began while it was computed.
  // The promise itself is kept, so a remembered answer costs no new promise per publication.
  const queued = new Map<string, Promise<unknown[]>>();
  let generation = 0;
  const byTopic = persistence.subscriptionsByTopic.bind(persistence);
  persistence.subscriptionsByTopic = (topic) => {
    const cached = queued.get(topic);
    if (cached !== undefined) return cached;
    const gen = generation;
    const answer = byTopic(topic);
    void answer.then(
      () => {
        if (gen !== generation) return;
        if (queued.size >= MAX_TOPICS) queued.clear();
        queued.set(topic, answer);
      },
      () => undefined,
    );
    return answer;
  };
  // Nobody's session matches most publications (only the hub, in process, receives events):
  // queueing for no one needs no work, nor a new promise each time.
  const enqueue = persistence.outgoingEnqueueCombi.bind(persistence);
  persistence.outgoingEnqueueCombi = (subs, packet) => (subs.length === 0 ? queuedForNoOne : enqueue(subs, packet));
  for (const name of ['addSubscriptions', 'removeSubscriptions', 'cleanSubscriptions'] as const) {
    const change = persistence[name].bind(persistence) as (...args: unknown[]) => Promise<unknown>;
    persistence[name] = async (...args: unknown[]) => {
      generation++;
      queued.clear();
      try {
        return await change(...args);
      } finally {
        generation++;
        queued.clear();
      }
    };
  }
}
