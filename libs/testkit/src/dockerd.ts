import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { spawnLogged } from './process';
import { killMatching, listProcesses, unmountUnder } from './procfs';
import { makeTempDir, removeDir } from './tmp';
import { sleep } from './wait';

const execFileAsync = promisify(execFile);

export interface DockerdOptions {
  /** Existing empty directory to use; default a fresh /tmp/hl-dk-XXXXXX. Keep it short (socket paths). */
  baseDir?: string;
  /** How long to wait for /_ping. Default 60s. */
  startTimeoutMs?: number;
  /**
   * Storage driver; default overlay2, falling back to vfs where the kernel or the backing
   * filesystem refuses overlay mounts (e.g. /tmp itself on overlayfs). overlay2 shares image
   * layers between containers instead of copying them, which makes image builds about ten
   * times faster (docs/deploy.md, "Images").
   */
  storageDriver?: StorageDriver;
}

export type StorageDriver = 'overlay2' | 'vfs';

export interface DockerdHandle {
  baseDir: string;
  socketPath: string;
  /** `unix://…` form, suitable for DOCKER_HOST. */
  host: string;
  docker: Docker;
  logFile: string;
  /** The storage driver the daemon runs with. */
  storageDriver: StorageDriver;
  /** Removes all containers, stops the daemon, kills leftovers, deletes baseDir. Idempotent. */
  stop(): Promise<void>;
}

const BASE_PREFIX = 'hl-dk-';

/**
 * Starts a private Docker daemon that cannot clash with any other dockerd on the
 * host: own data/exec roots, socket, pidfile and containerd namespace; no default
 * bridge and no iptables rules, so host networking is untouched unless a test
 * creates a user-defined network (a br-* link, removed again by stop()). dockerd
 * supervises its own containerd (under exec-root) as no --containerd is given.
 */
export async function startDockerd(opts: DockerdOptions = {}): Promise<DockerdHandle> {
  await cleanupStaleDockerds();
  if (opts.storageDriver) return startWithDriver(opts, opts.storageDriver);
  try {
    return await startWithDriver(opts, 'overlay2');
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/; log tail:$/, '');
    console.warn(`dockerd: overlay2 refused (${why}), using vfs`);
    return startWithDriver(opts, 'vfs');
  }
}

async function startWithDriver(opts: DockerdOptions, storageDriver: StorageDriver): Promise<DockerdHandle> {
  const baseDir = opts.baseDir ?? (await makeTempDir(BASE_PREFIX, '/tmp')).path;
  await fs.mkdir(baseDir, { recursive: true });
  const socketPath = path.join(baseDir, 'docker.sock');
  const logFile = path.join(baseDir, 'dockerd.log');
  const configFile = path.join(baseDir, 'daemon.json');
  // An empty config keeps a host /etc/docker/daemon.json from leaking in.
  await fs.writeFile(configFile, '{}\n');
  // Unique containerd namespaces matter only if dockerd finds a system containerd at
  // /run/containerd/containerd.sock and uses it instead of starting its own.
  const ns = `hl-${path.basename(baseDir).slice(BASE_PREFIX.length)}`;

  const proc = spawnLogged(
    'dockerd',
    [
      `--config-file=${configFile}`,
      `--storage-driver=${storageDriver}`,
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
      `--data-root=${path.join(baseDir, 'data')}`,
      `--exec-root=${path.join(baseDir, 'exec')}`,
      `--pidfile=${path.join(baseDir, 'docker.pid')}`,
      `--containerd-namespace=${ns}`,
      `--containerd-plugins-namespace=${ns}-plugins`,
      `--host=unix://${socketPath}`,
    ],
    // SIGTERM on runner exit: dockerd then stops its containers and containerd itself.
    { logFile, maxBufferBytes: 64 * 1024, signalOnParentExit: 'SIGTERM' },
  );

  const docker = new Docker({ socketPath });
  let stopped: Promise<void> | undefined;
  const handle: DockerdHandle = {
    baseDir,
    socketPath,
    host: `unix://${socketPath}`,
    docker,
    logFile,
    storageDriver,
    stop: () => (stopped ??= stopDaemon()),
  };

  async function stopDaemon(): Promise<void> {
    if (proc.running) {
      // Force-remove first: a graceful daemon shutdown would wait the 10s stop
      // timeout for every container whose PID 1 ignores SIGTERM (e.g. `sleep`).
      const containers = await docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        containers.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      // User-defined bridge networks create br-* links in the host namespace that
      // outlive the daemon; deleting the networks via the API removes them.
      const networks = await docker.listNetworks().catch(() => []);
      await Promise.all(
        networks
          .filter((n) => !['bridge', 'host', 'none'].includes(n.Name))
          .map((n) =>
            docker
              .getNetwork(n.Id)
              .remove()
              .catch(() => undefined),
          ),
      );
      await proc.stop(20_000);
    }
    await reapLeftovers(baseDir, ns);
  }

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    const ok = await docker.ping().then(
      () => true,
      () => false,
    );
    if (ok) return handle;
    if (!proc.running || Date.now() > deadline) {
      const why = proc.running ? 'did not answer /_ping in time' : `exited with ${String(await proc.exited)}`;
      await handle.stop();
      throw new Error(`dockerd ${why}; log tail:\n${proc.output().slice(-4000)}`);
    }
    await sleep(100);
  }
}

/** Kills containerd/shims/containers still tied to this daemon, drops its bridges, unmounts, deletes the dir. */
async function reapLeftovers(baseDir: string, ns?: string): Promise<void> {
  await killMatching(
    (p) => p.cmdline.includes(`${baseDir}/`) || (ns !== undefined && p.cmdline.includes('containerd-shim') && p.cmdline.includes(`-namespace ${ns} `)),
  );
  await deleteBridges(baseDir);
  await unmountUnder(baseDir);
  await removeDir(baseDir);
}

/**
 * A daemon that died without deleting its user-defined networks leaves br-<id12>
 * links on the host. libnetwork's bolt store lists bridge networks under keys
 * "docker/network/v1.0/bridge/<id>"; scanning the raw file avoids a bolt dependency.
 */
async function deleteBridges(baseDir: string): Promise<void> {
  const db = await fs.readFile(path.join(baseDir, 'data/network/files/local-kv.db'), 'latin1').catch(() => '');
  const ids = new Set([...db.matchAll(/network\/v1\.0\/bridge\/([0-9a-f]{64})/g)].map((m) => m[1]!.slice(0, 12)));
  for (const id of ids) await execFileAsync('ip', ['link', 'del', `br-${id}`]).catch(() => undefined);
}

/**
 * Reaps /tmp/hl-dk-* dirs left by runs that died without teardown (runner
 * SIGKILLed, daemon crashed). A dir counts as stale when no dockerd references it
 * and it is older than a minute (so a daemon that is just starting is never hit).
 * Dirs of live daemons — e.g. a concurrent test run — are left alone.
 */
export async function cleanupStaleDockerds(): Promise<void> {
  const entries = await fs.readdir('/tmp').catch(() => [] as string[]);
  const dirs = entries.filter((e) => e.startsWith(BASE_PREFIX)).map((e) => path.join('/tmp', e));
  if (dirs.length === 0) return;
  const daemons = (await listProcesses()).filter((p) => /^(\S*\/)?dockerd /.test(p.cmdline));
  for (const dir of dirs) {
    if (daemons.some((p) => p.cmdline.includes(`${dir}/`))) continue;
    const st = await fs.stat(dir).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 60_000) await reapLeftovers(dir).catch(() => undefined);
  }
}
