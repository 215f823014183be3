import path from 'node:path';
import { WORLD_FILE_VERSION } from '@homelab/contracts';
import { ACTION_FILE_VERSION, actionFilesOf } from '@homelab/action-store';
import { CREDENTIALS_FILE, CREDENTIALS_FILE_VERSION } from '../broker/credentials';
import { CHECKPOINT_FILE, CHECKPOINT_FILE_VERSION, STATE_DIR } from '../observer/checkpoint';
import { FOLD_FILE, FOLD_FILE_VERSION } from '../observer/fold-state';
import { NODES_FILE, SERVICES_FILE, WORLD_DIR } from '../observer/world-files';
import { AUTH_FILE_VERSION, authFilePath } from '../web/auth/auth-file';
import { LAYOUT_VERSION, layoutPath } from './layout-file';

/**
 * Every JSON file kind of the hub's data root that carries its own `version`
 * field, with the highest version this hub reads (docs/upgrade.md, "What is
 * versioned"). A file with a higher one was written by a newer hub.
 */
export interface VersionedKind {
  kind: string;
  version: number;
  files(root: string): Promise<string[]>;
}

const fixed =
  (...rel: string[]) =>
  async (root: string) => [path.join(root, ...rel)];

export const VERSIONED_KINDS: readonly VersionedKind[] = [
  { kind: 'data root layout', version: LAYOUT_VERSION, files: async (root) => [layoutPath(root)] },
  { kind: 'world services', version: WORLD_FILE_VERSION, files: fixed(WORLD_DIR, SERVICES_FILE) },
  { kind: 'world nodes', version: WORLD_FILE_VERSION, files: fixed(WORLD_DIR, NODES_FILE) },
  { kind: 'observer checkpoint', version: CHECKPOINT_FILE_VERSION, files: fixed(STATE_DIR, CHECKPOINT_FILE) },
  { kind: 'observer fold', version: FOLD_FILE_VERSION, files: fixed(STATE_DIR, FOLD_FILE) },
  { kind: 'web users and tokens', version: AUTH_FILE_VERSION, files: async (root) => [authFilePath(root)] },
  { kind: 'MQTT credentials', version: CREDENTIALS_FILE_VERSION, files: fixed(CREDENTIALS_FILE) },
  { kind: 'action', version: ACTION_FILE_VERSION, files: actionFilesOf },
];
