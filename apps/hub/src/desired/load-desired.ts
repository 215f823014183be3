import fs from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { HostServicesFile, NAME_PATTERN, NodeName, type ConfigProblem } from '@homelab/contracts';
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
}

const FILE_NAME = 'services.yaml';
/** Far above any real services.yaml; refuses to parse something that is clearly not one. */
const MAX_FILE_BYTES = 1024 * 1024;

type HostOutcome = { ok: true; file: HostServicesFile } | { ok: false; problems: ConfigProblem[] };

/**
 * Reads `hosts/*\/services.yaml` (BRIEF.md: desired state is reloaded each
 * supervisor cycle). An invalid file yields problems naming the file, the path
 * inside it and the reason, and that host keeps its last good state, so a typo
 * never makes the supervisor believe services were removed. A host folder that
 * disappeared is removed from desired state.
 */
export async function loadDesired(hostsDir: string, lastGood: DesiredState, log: Logger): Promise<LoadedDesired> {
  const shown = (...rel: string[]) => path.join(path.basename(hostsDir), ...rel);
  let entries: string[];
  try {
    entries = await fs.readdir(hostsDir);
  } catch (err) {
    const problem = { file: shown(), path: '', message: `cannot read the hosts folder ${hostsDir}: ${(err as Error).message}` };
    log.debug({ hostsDir, err }, 'cannot read hosts folder; keeping the last good desired state');
    return { desired: { ...lastGood }, problems: [problem], invalidHosts: [], hostsReadable: false };
  }

  const desired: DesiredState = {};
  const problems: ConfigProblem[] = [];
  const invalidHosts: string[] = [];
  for (const name of entries.sort()) {
    if (name.startsWith('.')) continue;
    const stat = await fs.stat(path.join(hostsDir, name)).catch(() => null);
    if (!stat?.isDirectory()) continue;
    const outcome = await loadHost(hostsDir, name, shown(name, FILE_NAME));
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
  return { desired, problems, invalidHosts, hostsReadable: true };
}

async function loadHost(hostsDir: string, folder: string, file: string): Promise<HostOutcome> {
  const fail = (message: string, at = ''): HostOutcome => ({ ok: false, problems: [{ file, path: at, message }] });
  if (!NAME_PATTERN.test(folder)) {
    return fail(`folder name ${JSON.stringify(folder)} is not a valid node name (lowercase letters, digits, _ and -)`);
  }
  const full = path.join(hostsDir, folder, FILE_NAME);
  let text: string;
  try {
    const stat = await fs.stat(full);
    if (stat.size > MAX_FILE_BYTES) return fail(`file is ${stat.size} bytes; the limit is ${MAX_FILE_BYTES}`);
    text = await fs.readFile(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? `missing: every host folder needs a ${FILE_NAME}` : `cannot read: ${(err as Error).message}`);
  }

  let doc: unknown;
  try {
    // CORE_SCHEMA: plain YAML 1.2 types, so `2026-01-01` or `on` stay strings.
    doc = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      return fail(`YAML syntax error at line ${err.mark.line + 1}, column ${err.mark.column + 1}: ${err.reason}`);
    }
    throw err;
  }
  if (doc === undefined || doc === null) return fail('file is empty; expected at least `node: <name>`');

  const parsed = HostServicesFile.safeParse(doc);
  if (!parsed.success) return { ok: false, problems: problemsFromIssues(file, parsed.error.issues) };
  if (parsed.data.node !== folder) {
    return fail(`node is ${JSON.stringify(parsed.data.node)} but the folder is ${JSON.stringify(folder)}; they must be equal`, 'node');
  }
  return { ok: true, file: parsed.data };
}
