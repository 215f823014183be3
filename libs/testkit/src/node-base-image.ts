import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { followProgress, imageExists, splitTag } from './busybox-image';
import { makeTempDir } from './tmp';

const execFileAsync = promisify(execFile);

/** Debian release of the official `node:<lts>-bookworm-slim` image the Dockerfiles default to. */
export const NODE_BASE_RELEASE = 'bookworm';
/** Where the system's CA bundle is; copied from the host so npm and apt reach their registries through it. */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Bumped when the recipe below changes, so a cached tarball of the old recipe is not reused. */
const RECIPE = 2;

export interface NodeBaseImage {
  tag: string;
  /** ms spent: 0 when the image was already on the engine. */
  importMs: number;
  /** ms spent in mmdebstrap: 0 when the tarball came from the cache. */
  debootstrapMs: number;
}

/**
 * A local stand-in for the official `node:<lts>-bookworm-slim` image (no registry serves it
 * here, docs/deploy.md "Images"): Debian bookworm minbase from Debian's mirror (mmdebstrap),
 * with this machine's Node.js and npm laid out as the official image lays them out
 * (/usr/local/bin, /usr/local/lib/node_modules/npm) and this machine's CA bundle, so npm and
 * apt inside a build trust the same certificates the host does. The tarball is cached under
 * `cacheDir`, keyed by the recipe, the Node.js binary and the CA bundle; importing it into a
 * fresh engine takes seconds. Idempotent; returns the tag.
 */
export async function ensureNodeBaseImage(docker: Docker, cacheDir: string): Promise<NodeBaseImage> {
  const key = await cacheKey();
  const tag = `homelab-test/node-base:${key}`;
  if (await imageExists(docker, tag)) return { tag, importMs: 0, debootstrapMs: 0 };
  await fs.mkdir(cacheDir, { recursive: true });
  const tarFile = path.join(cacheDir, `node-base-${key}.tar`);
  let debootstrapMs = 0;
  if (!(await exists(tarFile))) {
    const started = Date.now();
    await buildRootfsTar(tarFile);
    debootstrapMs = Date.now() - started;
  }
  const started = Date.now();
  const [repo, version] = splitTag(tag);
  const stream = await docker.importImage(tarFile, {
    repo,
    tag: version,
    changes: [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      // Node.js uses its own CA list unless told otherwise; the host's bundle carries the
      // certificate the registry is reached through.
      `ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`,
      'CMD ["node"]',
    ],
  });
  await followProgress(docker, stream);
  if (!(await imageExists(docker, tag))) throw new Error(`import of ${tag} reported success but the image is missing`);
  return { tag, importMs: Date.now() - started, debootstrapMs };
}

async function cacheKey(): Promise<string> {
  const hash = createHash('sha256').update(`${RECIPE} ${NODE_BASE_RELEASE} ${process.version} ${process.execPath}\n`);
  hash.update(await fs.readFile(CA_BUNDLE));
  return hash.digest('hex').slice(0, 16);
}

async function buildRootfsTar(tarFile: string): Promise<void> {
  const tmp = await makeTempDir('hl-node-base');
  try {
    const rootfs = path.join(tmp.path, 'rootfs');
    await execFileAsync('mmdebstrap', ['--quiet', '--variant=minbase', '--include=ca-certificates', '--format=directory', NODE_BASE_RELEASE, rootfs], {
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`mmdebstrap ${NODE_BASE_RELEASE} failed (test/setup/ensure-deps.sh installs it): ${err.message}\n${err.stderr ?? ''}`);
    });
    // After ca-certificates: the host's bundle, including any certificate local to this machine.
    await fs.copyFile(CA_BUNDLE, path.join(rootfs, CA_BUNDLE));
    await fs.copyFile(process.execPath, path.join(rootfs, 'usr/local/bin/node'));
    const npmDir = path.join((await execFileAsync('npm', ['root', '-g'])).stdout.trim(), 'npm');
    await fs.cp(npmDir, path.join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: false });
    await fs.symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/local/bin/npm'));
    await fs.symlink('../lib/node_modules/npm/bin/npx-cli.js', path.join(rootfs, 'usr/local/bin/npx'));
    const partial = `${tarFile}.${process.pid}.partial`;
    await execFileAsync('tar', ['--numeric-owner', '-C', rootfs, '-cf', partial, '.']);
    await fs.rename(partial, tarFile);
  } finally {
    await tmp.cleanup();
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
