import { HOMELAB_VERSION } from '@homelab/contracts';
import { readJsonFile, writeFileAtomic } from '@homelab/durable-fs';
import type { Logger } from '@homelab/logging';
import { HubError } from '../errors';
import { newerFilesMessage } from './check-root';
import { LAYOUT_VERSION, LayoutFile, layoutPath, UNMARKED_LAYOUT } from './layout-file';
import { MIGRATIONS } from './migrations';

export interface UpgradeReport {
  from: number;
  to: number;
  /** Steps run by this call (none when the root was already current). */
  steps: { from: number; to: number; what: string; changed: number; skipped: number }[];
}

/**
 * Brings the data root to LAYOUT_VERSION (docs/upgrade.md, "Upgrade"): runs
 * the steps from its layout on, then writes layout.json, last, so a crash
 * part-way runs the remaining work again on the next start. Called with the
 * root lock held. An unreadable layout.json is refused, never replaced.
 */
export async function upgradeDataRoot(root: string, opts: { log: Logger; now: () => Date }): Promise<UpgradeReport> {
  const file = layoutPath(root);
  const read = await readJsonFile(file, LayoutFile);
  if (read.kind === 'corrupt') throw new HubError('config_invalid', `${file} cannot be read (${read.problem}); the hub leaves it as it is and does not start`);
  const current = read.kind === 'ok' ? read.value : null;
  const from = current?.version ?? UNMARKED_LAYOUT;
  if (from > LAYOUT_VERSION)
    throw new HubError('data_root_newer', newerFilesMessage([{ file, kind: 'data root layout', version: from, known: LAYOUT_VERSION }], 'hub'));

  const report: UpgradeReport = { from, to: LAYOUT_VERSION, steps: [] };
  for (const step of MIGRATIONS.filter((m) => m.from >= from)) {
    const done = await step.run(root, opts.log);
    report.steps.push({ from: step.from, to: step.from + 1, what: step.what, ...done });
    opts.log.info({ root, from: step.from, to: step.from + 1, ...done }, `data root upgraded: ${step.what}`);
  }
  if (report.steps.length === 0 && current?.writtenBy === HOMELAB_VERSION) return report;
  const at = opts.now().toISOString();
  const next: LayoutFile = {
    version: LAYOUT_VERSION,
    writtenBy: HOMELAB_VERSION,
    migrations: [...(current?.migrations ?? []), ...report.steps.map((s) => ({ from: s.from, to: s.to, at, by: HOMELAB_VERSION }))],
  };
  await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, { mkdirMode: 0o755 });
  return report;
}
