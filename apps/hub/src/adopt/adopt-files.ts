import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AdoptDraftView, AdoptWriteResult, World } from '@homelab/contracts';
import { mkdirDurable, writeFileAtomic } from '@homelab/durable-fs';
import type { Logger } from '@homelab/logging';
import { HubError } from '../errors';
import { draftServicesFile } from './draft';

export interface AdoptDeps {
  hostsDir: string;
  world: () => World;
  /** After a write: the supervisor loads the file at once instead of at its next cycle. */
  onWritten: () => void;
  log: Logger;
}

/** Far above a real services.yaml; the loader refuses more too. */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * `homelab adopt` on the hub (docs/services-yaml.md, "Adopting what runs"):
 * drafts from the world's inventory of the node, writes only the draft of the
 * file the operator saw (its revision), one write at a time.
 */
export class Adopter {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AdoptDeps) {}

  async draft(node: string, force: boolean): Promise<AdoptDraftView> {
    const unmanaged = this.deps.world().nodes[node]?.unmanaged;
    if (!unmanaged) throw new HubError('not_found', `node ${node} has not reported its containers yet (no node_inventory); is its agent running?`);
    return draftServicesFile({ node, unmanaged, current: await this.readCurrent(node), force });
  }

  write(node: string, baseRevision: string, force: boolean): Promise<AdoptWriteResult> {
    const run = this.queue.then(() => this.writeNow(node, baseRevision, force));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeNow(node: string, baseRevision: string, force: boolean): Promise<AdoptWriteResult> {
    const draft = await this.draft(node, force);
    if (draft.baseRevision !== baseRevision) {
      throw new HubError(
        'conflict',
        `${draft.file} changed since the draft was made (revision ${draft.baseRevision}, not ${baseRevision}); look at the draft again`,
      );
    }
    if (draft.refused) throw new HubError('conflict', draft.refused);
    if (draft.problems.length)
      throw new HubError('invalid_request', `the draft is not valid: ${draft.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
    if (draft.diff === '') return { written: false, draft };
    const dir = path.join(this.deps.hostsDir, node);
    await mkdirDurable(dir);
    await writeFileAtomic(path.join(dir, 'services.yaml'), draft.text);
    this.deps.log.info({ node, added: draft.added.map((s) => s.name), replaced: draft.replaced }, 'adopt: wrote services.yaml');
    this.deps.onWritten();
    return { written: true, draft };
  }

  /** The current file's text, null when there is none; links are refused as the loader refuses them (docs/services-yaml.md). */
  private async readCurrent(node: string): Promise<string | null> {
    const dir = path.join(this.deps.hostsDir, node);
    const folder = await fs.lstat(dir).catch(() => null);
    if (folder?.isSymbolicLink())
      throw new HubError('conflict', `the host folder ${node} is a symbolic link; adopt writes only real files in the hosts folder`);
    let handle: fs.FileHandle;
    try {
      // O_NOFOLLOW: a link is refused by the kernel (ELOOP), never followed.
      handle = await fs.open(path.join(dir, 'services.yaml'), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code === 'ELOOP') throw new HubError('conflict', `hosts/${node}/services.yaml is a symbolic link; adopt writes only real files`);
      throw err;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile() || stat.size > MAX_FILE_BYTES) throw new HubError('conflict', `hosts/${node}/services.yaml is not a regular file of at most 1 MiB`);
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  }
}
