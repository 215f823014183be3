import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { makeTempDir } from './tmp';

const execFileAsync = promisify(execFile);

export const BUSYBOX_PATH = '/bin/busybox';
export const DEFAULT_BUSYBOX_IMAGE = 'homelab-test/busybox:1';

/**
 * Builds a tiny image from the host's static busybox (Debian busybox-static),
 * because no registry is reachable from tests. Every applet is symlinked into
 * /bin, so `sh`, `sleep`, `nc`, `httpd`, `wget`, … all work. Idempotent.
 * Returns the tag.
 */
export async function ensureBusyboxImage(docker: Docker, tag = DEFAULT_BUSYBOX_IMAGE): Promise<string> {
  if (await imageExists(docker, tag)) return tag;
  await assertStaticElf(BUSYBOX_PATH);

  const tmp = await makeTempDir('hl-busybox');
  try {
    const rootfs = path.join(tmp.path, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'root', 'var/www']) await fs.mkdir(path.join(rootfs, d), { recursive: true });
    await fs.chmod(path.join(rootfs, 'tmp'), 0o1777);
    await fs.copyFile(BUSYBOX_PATH, path.join(rootfs, 'bin/busybox'));
    await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
    const { stdout } = await execFileAsync(BUSYBOX_PATH, ['--list']);
    for (const applet of stdout.split('\n').map((s) => s.trim())) {
      if (!applet || applet === 'busybox' || applet.includes('/')) continue;
      await fs.symlink('busybox', path.join(rootfs, 'bin', applet));
    }
    // Minimal user database so `User: 'root'` / `nobody` resolve inside containers.
    await fs.writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    await fs.writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');

    const tarFile = path.join(tmp.path, 'rootfs.tar');
    await execFileAsync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tarFile, '.']);
    const [repo, version] = splitTag(tag);
    const stream = await docker.importImage(tarFile, {
      repo,
      tag: version,
      changes: ['ENV PATH=/bin', 'CMD ["sh"]'],
    });
    await followProgress(docker, stream);
  } finally {
    await tmp.cleanup();
  }
  if (!(await imageExists(docker, tag))) throw new Error(`import of ${tag} reported success but the image is missing`);
  return tag;
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  return docker
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

export function splitTag(ref: string): [string, string] {
  const i = ref.lastIndexOf(':');
  return i > ref.lastIndexOf('/') ? [ref.slice(0, i), ref.slice(i + 1)] : [ref, 'latest'];
}

/** The import endpoint reports failures inside the JSON stream with HTTP 200. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
      const failed = err ?? events.find((e) => e.error);
      if (failed) reject(failed instanceof Error ? failed : new Error(`docker import: ${failed.error}`));
      else resolve();
    });
  });
}

/** A dynamically linked busybox would not run in a rootfs without libc: reject ELFs with PT_INTERP. */
async function assertStaticElf(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await fh.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) {
      throw new Error(`${file} is not a 64-bit little-endian ELF`);
    }
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    await fh.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const PT_INTERP = 3;
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) {
        throw new Error(`${file} is dynamically linked; install Debian's busybox-static`);
      }
    }
  } finally {
    await fh.close();
  }
}
