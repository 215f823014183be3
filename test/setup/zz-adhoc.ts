import { startDockerd, ensureBusyboxImage, listProcesses } from '@homelab/testkit';
const t0 = Date.now();
const d = await startDockerd();
const t1 = Date.now();
await ensureBusyboxImage(d.docker);
const t2 = Date.now();
await ensureBusyboxImage(d.docker);
console.log('dockerd', t1 - t0, 'ms; image', t2 - t1, 'ms; idempotent', Date.now() - t2, 'ms');
// host networking + applets
const c = await d.docker.createContainer({ Image: 'homelab-test/busybox:1', Cmd: ['sh', '-c', 'mkdir -p /www && echo hi > /www/index.html && httpd -f -p 127.0.0.1:18777 -h /www'], HostConfig: { NetworkMode: 'host' } });
await c.start();
await new Promise((r) => setTimeout(r, 500));
console.log('http from host:', await (await fetch('http://127.0.0.1:18777/')).text());
const info = await d.docker.getImage('homelab-test/busybox:1').inspect();
console.log('env', info.Config.Env, 'cmd', info.Config.Cmd, 'size', info.Size);
// leave container running; also a user-defined network
const net = await d.docker.createNetwork({ Name: 'hl-test-net' });
const c2 = await d.docker.createContainer({ Image: 'homelab-test/busybox:1', Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'hl-test-net' } });
await c2.start();
console.log('c2 ip', (await c2.inspect()).NetworkSettings.Networks['hl-test-net']?.IPAddress);
const t3 = Date.now();
if (process.argv[2] === 'crash') { process.kill(process.pid, 'SIGKILL'); }
await d.stop();
console.log('stop took', Date.now() - t3, 'ms');
const left = (await listProcesses()).filter((p) => p.cmdline.includes(d.baseDir));
console.log('leftover procs', left.length);
