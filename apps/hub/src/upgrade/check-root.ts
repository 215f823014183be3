import { HOMELAB_VERSION } from '@homelab/contracts';
import { readIfExists } from '@homelab/durable-fs';
import { HubError } from '../errors';
import { VERSIONED_KINDS } from './versioned-files';

/** A file whose `version` is higher than this hub reads. */
export interface NewerFile {
  file: string;
  kind: string;
  version: number;
  known: number;
}

/** The `version` field of a JSON text, or null (not JSON, no number there: other code reports such files). */
export function versionOf(text: string): number | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (json === null || typeof json !== 'object' || !('version' in json)) return null;
  const v = (json as { version: unknown }).version;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const READ_BATCH = 64;

/** Reads every versioned file of the root (docs/upgrade.md, "What is versioned") and lists those newer than this hub. */
export async function findNewerFiles(root: string): Promise<NewerFile[]> {
  const newer: NewerFile[] = [];
  for (const k of VERSIONED_KINDS) {
    const files = await k.files(root);
    // Batches of reads in parallel: thousands of action files then cost a fraction of a second at start.
    for (let i = 0; i < files.length; i += READ_BATCH) {
      const batch = files.slice(i, i + READ_BATCH);
      const texts = await Promise.all(batch.map((file) => readIfExists(file)));
      batch.forEach((file, j) => {
        const text = texts[j];
        const version = text == null ? null : versionOf(text);
        if (version !== null && version > k.version) newer.push({ file, kind: k.kind, version, known: k.version });
      });
    }
  }
  return newer;
}

/** The operator's message for a refused start: each file, its version and what to do. */
export function newerFilesMessage(newer: readonly NewerFile[], program: string): string {
  const lines = newer.map((n) => `  ${n.file}: ${n.kind} format version ${n.version}; homelab ${HOMELAB_VERSION} reads up to ${n.known}`);
  return [
    `the data root was written by a newer version of homelab; the ${program} does not start and changed nothing:`,
    ...lines,
    'run the version that wrote it, or restore the backup taken before the upgrade (docs/upgrade.md, "Rollback")',
  ].join('\n');
}

/**
 * Refuses (HubError data_root_newer) when any file of the root has a format
 * newer than this hub knows. Read-only: it runs before the root lock is taken,
 * so a refused start leaves every byte of the root as it was.
 */
export async function refuseNewerDataRoot(root: string, program = 'hub'): Promise<void> {
  const newer = await findNewerFiles(root);
  if (newer.length) throw new HubError('data_root_newer', newerFilesMessage(newer, program));
}
