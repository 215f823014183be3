import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { agentServiceSpec, FleetPolicyFile, HostServicesFile, NAME_PATTERN, NodeName, type ConfigProblem, type PolicySpec } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { problemsFromIssues } from './problems';

/** Desired state of the fleet: node → contents of `hosts/<node>/services.yaml`. */
export const DesiredState = z.record(NodeName, HostServicesFile);
export type DesiredState = z.infer<typeof DesiredState>;

export interface LoadedDesired {
  desired: DesiredState;
  problems: ConfigProblem[];
  /** Host folders whose file has problems (their last good state, if any, is in `desired`). */
  invalidHosts: string[];
  /** False when the hosts folder itself could not be read: `desired` is then the last good state as a whole. */
  hostsReadable: boolean;
  /**
   * Fleet-wide policy from `hosts/policy.yaml`: undefined when there is no such
   * file (built-in defaults apply); the last good one while it is invalid.
   */
  policy: PolicySpec | undefined;
}

const FILE_NAME = 'services.yaml';
/** Optional fleet-wide policy next to the host folders. */
export const POLICY_FILE_NAME = 'policy.yaml';
/** Far above any real services.yaml; refuses to parse something that is clearly not one. */
const MAX_FILE_BYTES = 1024 * 1024;

type Outcome<T> = { ok: true; file: T } | { ok: false; problems: ConfigProblem[] };
type HostOutcome = Outcome<HostServicesFile>;

export interface LoadOptions {
  /** The fleet policy kept while `policy.yaml` is invalid. */
  lastGoodPolicy?: PolicySpec;
  /** Reuse the outcome of files that did not change since the last load (the supervisor loads every few seconds). */
  cache?: DesiredFileCache;
}

/**
 * Outcomes of parsed files by path and stat signature (inode, size, mtime and
 * ctime in ns), so an unchanged file costs one stat instead of read + YAML +
 * zod. Like git's "racy" rule, a file modified less than RACY_MS before it
 * was read is not cached: a second write within the same timestamp tick
 * could otherwise go unseen.
 */
export class DesiredFileCache {
  private entries = new Map<string, { sig: string; outcome: Outcome<unknown> }>();
  private seen = new Set<string>();
  hits = 0;

  /** @internal */
  get<T>(file: string, sig: string): Outcome<T> | undefined {
    this.seen.add(file);
    const e = this.entries.get(file);
    if (e?.sig !== sig) return undefined;
    this.hits += 1;
    return e.outcome as Outcome<T>;
  }

  /** @internal */
  set(file: string, sig: string, outcome: Outcome<unknown>): void {
    this.entries.set(file, { sig, outcome });
  }

  /** @internal Drops files not looked up since the previous sweep (deleted hosts). */
  sweep(): void {
    for (const k of this.entries.keys()) if (!this.seen.has(k)) this.entries.delete(k);
    this.seen = new Set();
  }
}
const RACY_MS = 2000;

/**
 * Reads `hosts/*\/services.yaml`, once per supervisor cycle (docs/supervisor.md,
 * "One cycle"). An invalid file yields problems naming the file, the path
 * inside it and the reason, and that host keeps its last good state, so a typo
 * never makes the supervisor believe services were removed. A host folder that
 * disappeared is removed from desired state. `hosts/policy.yaml` (optional) is
 * read the same way: an invalid one keeps `lastGoodPolicy` in force.
 */
export async function loadDesired(hostsDir: string, lastGood: DesiredState, log: Logger, opts: LoadOptions = {}): Promise<LoadedDesired> {
  const { lastGoodPolicy, cache } = opts;
  const shown = (...rel: string[]) => path.join(path.basename(hostsDir), ...rel);
  let entries: string[];
  try {
    entries = await fs.readdir(hostsDir);
  } catch (err) {
    const problem = { file: shown(), path: '', message: `cannot read the hosts folder ${hostsDir}: ${(err as Error).message}` };
    log.debug({ hostsDir, err }, 'cannot read hosts folder; keeping the last good desired state');
    return { desired: { ...lastGood }, problems: [problem], invalidHosts: [], hostsReadable: false, policy: lastGoodPolicy };
  }

  const desired: DesiredState = {};
  const problems: ConfigProblem[] = [];
  const invalidHosts: string[] = [];
  let policy: PolicySpec | undefined;
  if (entries.includes(POLICY_FILE_NAME)) {
    const outcome = await cached(cache, path.join(hostsDir, POLICY_FILE_NAME), () => loadPolicy(hostsDir, shown(POLICY_FILE_NAME)));
    if (outcome.ok) policy = outcome.file ?? undefined;
    else {
      problems.push(...outcome.problems);
      policy = lastGoodPolicy;
      log.debug({ problems: outcome.problems, keptLastGood: Boolean(lastGoodPolicy) }, 'invalid fleet policy file');
    }
  }
  for (const name of entries.sort()) {
    if (name.startsWith('.')) continue;
    const full = path.join(hostsDir, name);
    const stat = await fs.lstat(full).catch(() => null);
    const linkedFolder = stat?.isSymbolicLink() === true && (await fs.stat(full).catch(() => null))?.isDirectory() === true;
    if (!stat?.isDirectory() && !linkedFolder) continue;
    const outcome = linkedFolder
      ? symlinkRefused<HostServicesFile>(shown(name, FILE_NAME), `the host folder ${shown(name)}`)
      : await cached(cache, path.join(hostsDir, name, FILE_NAME), () => loadHost(hostsDir, name, shown(name, FILE_NAME)));
    if (outcome.ok) {
      desired[name] = outcome.file;
      continue;
    }
    problems.push(...outcome.problems);
    invalidHosts.push(name);
    const kept = Object.hasOwn(lastGood, name) ? lastGood[name] : undefined;
    if (kept) desired[name] = kept;
    // Debug only: callers polling every few seconds log problems when they change.
    log.debug({ host: name, problems: outcome.problems, keptLastGood: Boolean(kept) }, 'invalid desired state file');
  }
  cache?.sweep();
  return { desired, problems, invalidHosts, hostsReadable: true, policy };
}

/**
 * Desired state is read only from files inside the hosts folder: a symbolic
 * link could point anywhere the hub can read, and the problems of an invalid
 * file (its keys) are shown to every viewer of `/summary` (docs/services-yaml.md).
 */
function symlinkRefused<T>(file: string, what: string): Outcome<T> {
  return { ok: false, problems: [{ file, path: '', message: `${what} is a symbolic link; links are not followed, put the real file in the hosts folder` }] };
}

async function cached<T>(cache: DesiredFileCache | undefined, full: string, load: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
  if (!cache) return load();
  // lstat: a link is never a file here, so it is never cached (readYaml refuses it).
  const st = await fs.lstat(full, { bigint: true }).catch(() => null);
  if (!st?.isFile()) return load();
  const sig = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const hit = cache.get<T>(full, sig);
  if (hit) return hit;
  const outcome = await load();
  if (Date.now() - Number(st.mtimeMs) > RACY_MS) cache.set(full, sig, outcome);
  return outcome;
}

/** `hosts/policy.yaml`; a file with nothing but comments means "all defaults". */
async function loadPolicy(hostsDir: string, file: string): Promise<Outcome<PolicySpec | null>> {
  const doc = await readYaml(path.join(hostsDir, POLICY_FILE_NAME), file);
  if (!doc.ok) return doc;
  if (doc.file.kind === 'missing') return { ok: true, file: null };
  const parsed = FleetPolicyFile.safeParse(doc.file.value ?? {});
  return parsed.success ? { ok: true, file: parsed.data } : { ok: false, problems: problemsFromIssues(file, parsed.error.issues) };
}

type YamlDoc = { kind: 'file'; value: unknown } | { kind: 'missing' };

/** Reads and parses one YAML file (plain YAML 1.2 types), with size limit and syntax errors as problems. */
async function readYaml(full: string, file: string): Promise<Outcome<YamlDoc>> {
  const fail = (message: string): Outcome<YamlDoc> => ({ ok: false, problems: [{ file, path: '', message }] });
  let text: string;
  try {
    const link = await fs.lstat(full);
    if (link.isSymbolicLink()) return symlinkRefused(file, 'the file');
    // O_NOFOLLOW: a link swapped in after the lstat is refused by the kernel (ELOOP) instead of followed.
    const handle = await fs.open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return fail('not a regular file');
      if (stat.size > MAX_FILE_BYTES) return fail(`file is ${stat.size} bytes; the limit is ${MAX_FILE_BYTES}`);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, file: { kind: 'missing' } };
    if (code === 'ELOOP') return symlinkRefused(file, 'the file');
    return fail(`cannot read: ${(err as Error).message}`);
  }
  const parsed = parseYamlText(text, file);
  return parsed.ok ? { ok: true, file: { kind: 'file', value: parsed.file } } : parsed;
}

/** YAML text as every hosts file is read; a syntax error is a problem with line and column. */
function parseYamlText(text: string, file: string): Outcome<unknown> {
  try {
    // CORE_SCHEMA: plain YAML 1.2 types, so `2026-01-01` or `on` stay strings.
    return { ok: true, file: yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA }) };
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      return {
        ok: false,
        problems: [{ file, path: '', message: `YAML syntax error at line ${err.mark.line + 1}, column ${err.mark.column + 1}: ${err.reason}` }],
      };
    }
    throw err;
  }
}

async function loadHost(hostsDir: string, folder: string, file: string): Promise<HostOutcome> {
  const fail = (message: string, at = ''): HostOutcome => ({ ok: false, problems: [{ file, path: at, message }] });
  if (!NAME_PATTERN.test(folder)) {
    return fail(`folder name ${JSON.stringify(folder)} is not a valid node name (lowercase letters, digits, _ and -)`);
  }
  const read = await readYaml(path.join(hostsDir, folder, FILE_NAME), file);
  if (!read.ok) return read;
  if (read.file.kind === 'missing') return fail(`missing: every host folder needs a ${FILE_NAME}`);
  return checkHostFile(read.file.value, folder, file);
}

/**
 * Pure: the text of a services.yaml as the loader reads it (same YAML schema,
 * same rules), for a file not written yet (a draft of `homelab adopt`).
 */
export function parseHostServicesText(text: string, folder: string, file: string): HostOutcome {
  const parsed = parseYamlText(text, file);
  return parsed.ok ? checkHostFile(parsed.file, folder, file) : parsed;
}

function checkHostFile(doc: unknown, folder: string, file: string): HostOutcome {
  const fail = (message: string, at = ''): HostOutcome => ({ ok: false, problems: [{ file, path: at, message }] });
  if (doc === undefined || doc === null) return fail('file is empty; expected at least `node: <name>`');

  const parsed = HostServicesFile.safeParse(doc);
  if (!parsed.success) return { ok: false, problems: problemsFromIssues(file, parsed.error.issues) };
  if (parsed.data.node !== folder) {
    return fail(`node is ${JSON.stringify(parsed.data.node)} but the folder is ${JSON.stringify(folder)}; they must be equal`, 'node');
  }
  return { ok: true, file: parsed.data };
}

/**
 * Desired state as agents get it (`nodes/<node>/desired`): each service without
 * the hub-only keys (`policy`, `maintenance`), and without the host-level ones,
 * so a policy edit neither reaches nor re-notifies agents.
 */
export function forAgents(desired: DesiredState): DesiredState {
  const out: DesiredState = {};
  for (const [node, host] of Object.entries(desired)) out[node] = { node: host.node, services: agentServices(host.services) };
  return out;
}

/** One host's services as its agent gets them (see forAgents). */
export function agentServices(services: HostServicesFile['services']): HostServicesFile['services'] {
  const out: HostServicesFile['services'] = {};
  for (const [name, spec] of Object.entries(services)) out[name] = agentServiceSpec(spec);
  return out;
}
