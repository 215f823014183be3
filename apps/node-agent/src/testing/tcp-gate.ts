import net from 'node:net';
import { freePort } from '@homelab/testkit';

/**
 * A loopback TCP relay in front of the broker, for tests: cut() makes the
 * broker unreachable for whoever connects through the gate (connections
 * reset, new ones refused) while other clients — the test's hub — stay
 * connected, so an outage starts and ends exactly when the test says.
 */
export class TcpGate {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly upstreamPort: number,
  ) {}

  static async open(upstreamPort: number): Promise<TcpGate> {
    const gate = new TcpGate(await freePort(), upstreamPort);
    await gate.open();
    return gate;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get isOpen(): boolean {
    return this.server !== null;
  }

  async open(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect({ port: this.upstreamPort, host: '127.0.0.1' });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Resets every relayed connection and refuses new ones until open(). */
  async cut(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
  }
}
