import { gzip } from 'node:zlib';
import type { Action, Summary } from '@homelab/contracts';
import { buildSummary, summaryForClients, type SummaryInput } from '../summary';
import { summaryMarkdown } from '../summary-markdown';

export type ServiceListing = 'auto' | 'all' | 'problems';

export interface SummarySources {
  world: () => SummaryInput['world'];
  desired: () => SummaryInput['desired'];
  problems: () => SummaryInput['problems'];
  findings: () => SummaryInput['findings'];
  actions: () => Promise<Action[]>;
  /** Bumped by every action change made in this process (NotifyingActionStore). */
  actionsVersion: () => number;
}

interface Built {
  summary: Summary;
  /** UTF-8 bytes of the JSON clients get (summaryForClients), encoded once per build and listing. */
  json?: Map<ServiceListing, Buffer>;
  /** The same, gzipped off the event loop (libuv thread pool) once someone asked for gzip. */
  gzip?: Buffer;
  gzipping?: boolean;
  markdown?: string;
  markdownAt?: number;
  key: unknown[];
  /** When it was built: `generatedAt`, and the "… min ago" of the markdown, must not grow old. */
  builtAt: number;
  /** Fingerprint of the action files the summary was built from. */
  actionsSig: string;
  at: number;
}

/** Enough to tell whether any action file changed: id, state and last update of each. */
const signature = (actions: Action[]) => actions.map((a) => `${a.id}\u0000${a.state}\u0000${a.updatedAt}`).join('\u0001');

/**
 * `/summary` without rebuilding it per request: the world, desired state,
 * problems and findings are replaced (never mutated) when they change, and
 * action changes bump a version, so a summary is reused while all of them are
 * the same objects. A change rebuilds on the next request — except a change of
 * the world alone, which is served up to `worldLagMs` late (see get()). Action files
 * written by another process: when the cached summary is older than
 * `maxAgeMs`, the files are listed again in the background (the request does
 * not wait) and the summary is rebuilt only if their fingerprint differs.
 */
export class SummaryCache {
  private built: Built | null = null;
  private building: Promise<Built> | null = null;

  constructor(
    private readonly src: SummarySources,
    private readonly maxAgeMs = 1000,
    private readonly now: () => number = Date.now,
    /** How far behind the world a served summary may be (see get()). */
    private readonly worldLagMs = 1000,
  ) {}

  private key(): unknown[] {
    const s = this.src;
    return [s.world(), s.desired(), s.problems(), s.findings(), s.actionsVersion()];
  }

  private async build(known?: Built): Promise<Built> {
    const key = this.key();
    const actions = await this.src.actions();
    const actionsSig = signature(actions);
    if (known && known.actionsSig === actionsSig && sameKey(known.key, key) && this.now() - known.builtAt < REBUILD_AT_LEAST_EVERY_MS) {
      known.at = this.now(); // still current: keep it with its serialised forms
      return known;
    }
    const summary = buildSummary({
      world: key[0] as SummaryInput['world'],
      desired: key[1] as SummaryInput['desired'],
      problems: key[2] as SummaryInput['problems'],
      findings: key[3] as SummaryInput['findings'],
      actions,
      now: new Date(this.now()),
    });
    return { summary, key, actionsSig, at: this.now(), builtAt: this.now() };
  }

  private rebuild(known?: Built): Promise<Built> {
    this.building ??= this.build(known)
      .then((b) => (this.built = b))
      .finally(() => (this.building = null));
    return this.building;
  }

  async get(): Promise<Built> {
    const b = this.built;
    const key = this.key();
    if (b && sameKey(b.key, key)) {
      if (this.now() - b.at > this.maxAgeMs) void this.rebuild(b).catch(() => undefined);
      return b;
    }
    // Only the world moved (heartbeats move it all the time on a big fleet): serve the summary
    // built less than worldLagMs ago while the new one is built in the background, so no request
    // waits for a rebuild of 20,000 services. Anything else (actions, desired state, problems,
    // findings) is shown at once: an operator's approval must never look undone.
    if (b && sameKey(b.key.slice(1), key.slice(1)) && this.now() - b.builtAt < this.worldLagMs) {
      void this.rebuild().catch(() => undefined);
      return b;
    }
    return this.rebuild();
  }

  async summary(): Promise<Summary> {
    return (await this.get()).summary;
  }

  /** The JSON of `GET /summary`: `auto` lists every service of a small fleet, only the unhealthy ones of a big one. */
  async json(list: ServiceListing = 'auto'): Promise<Buffer> {
    const b = await this.get();
    b.json ??= new Map();
    let out = b.json.get(list);
    if (!out) b.json.set(list, (out = Buffer.from(JSON.stringify(summaryForClients(b.summary, list)), 'utf8')));
    return out;
  }

  /**
   * The gzipped JSON when it is ready; otherwise starts compressing it in the
   * background and returns null (the caller sends it uncompressed this time),
   * so no request ever waits for the compression.
   */
  async gzipJson(): Promise<Buffer | null> {
    const b = await this.get();
    if (b.gzip) return b.gzip;
    if (!b.gzipping) {
      b.gzipping = true;
      const json = await this.json();
      gzip(json, { level: 6 }, (err, out) => {
        if (!err) b.gzip = out;
        else b.gzipping = false;
      });
    }
    return null;
  }

  async markdown(): Promise<string> {
    const b = await this.get();
    if (b.markdown === undefined || this.now() - b.markdownAt! > 30_000) {
      b.markdown = summaryMarkdown(b.summary, new Date(this.now()));
      b.markdownAt = this.now();
    }
    return b.markdown;
  }
}

const REBUILD_AT_LEAST_EVERY_MS = 60_000;

const sameKey = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((k, i) => k === b[i]);
