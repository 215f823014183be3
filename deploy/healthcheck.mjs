// The images' HEALTHCHECK (docs/deploy.md "Images"): exit 0 when healthy, 1 otherwise, one line
// on stdout for `docker inspect`. Plain Node.js, no dependencies: it runs beside the bundles.
//   hub:    GET /healthz on the hub's own HTTP port (HOMELAB_HTTP_PORT, default 18180)
//   agent:  the Docker API answers /_ping on the mounted socket (DOCKER_SOCKET)
//   mirror: <dir>/mirror-status.json says the last pass succeeded (argument: the mirror's --to)
import fs from 'node:fs';
import http from 'node:http';

const TIMEOUT_MS = 4000;

function get(options) {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...options, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

const checks = {
  async hub() {
    const port = Number(process.env.HOMELAB_HTTP_PORT || 18180);
    const status = await get({ host: '127.0.0.1', port, path: '/healthz' });
    return [status === 200, `GET /healthz on port ${port}: HTTP ${status}`];
  },
  async agent() {
    const socketPath = process.env.DOCKER_SOCKET || '/var/run/docker.sock';
    const status = await get({ socketPath, path: '/_ping' });
    return [status === 200, `Docker API on ${socketPath}: HTTP ${status}`];
  },
  async mirror(dir) {
    const status = JSON.parse(fs.readFileSync(`${dir}/mirror-status.json`, 'utf8'));
    return [status.ok === true, status.ok ? `last copy ${status.lastSuccess}` : `hub unreachable: ${status.error}`];
  },
};

const [role, arg] = process.argv.slice(2);
const check = checks[role];
if (!check) {
  console.log(`usage: healthcheck.mjs <${Object.keys(checks).join('|')}> [arg]`);
  process.exit(2);
}
try {
  const [ok, text] = await check(arg);
  console.log(text);
  process.exit(ok ? 0 : 1);
} catch (err) {
  console.log(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
