import type { QuarantinedActionFile } from '@homelab/action-store';
import type { Finding } from './findings';

/** More quarantined files than this are summed up in one last finding (a folder of junk must not flood the UI). */
export const MAX_QUARANTINE_FINDINGS = 20;

/**
 * One `action_file_quarantined` finding per file the action store moved aside
 * (newest first), naming where it was and where its bytes are now.
 */
export function quarantineFindings(files: readonly QuarantinedActionFile[]): Finding[] {
  const newest = [...files].reverse();
  const shown = newest.slice(0, MAX_QUARANTINE_FINDINGS).map((q): Finding => ({
    kind: 'action_file_quarantined',
    file: q.file,
    message: `${q.from} could not be read${q.problem ? ` (${q.problem.split('\n')[0]!.slice(0, 200)})` : ''}; moved to ${q.file} at ${q.at} with its bytes. Its id is free again. Inspect the file, then delete it.`,
  }));
  const more = newest.length - shown.length;
  if (more > 0) {
    shown.push({ kind: 'action_file_quarantined', file: 'actions/quarantine', message: `${more} more unreadable action files are in actions/quarantine/.` });
  }
  return shown;
}
