import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTP server on loopback that records every request it answers (a
 * stand-in for an ntfy server or a webhook receiver in tests). `status`
 * is what it answers; a non-2xx status records nothing (the sender failed);
 * `hang` leaves requests unanswered.
 */
export class HttpRecorder {
  readonly received: RecordedRequest[] = [];
  /** Requests answered with a failure status. */
  refused = 0;
  status = 200;
  /** Takes requests and never answers them (a server that hangs); they are kept in `hung`. */
  hang = false;
  readonly hung: RecordedRequest[] = [];
  get hanging(): number {
    return this.hung.length;
  }
  private server: http.Server | null = null;
  url = '';

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        if (this.hang) {
          this.hung.push(recorded);
          return;
        }
        if (this.status >= 200 && this.status < 300) this.received.push(recorded);
        else this.refused += 1;
        res.writeHead(this.status, { 'content-type': 'application/json' }).end(this.status < 300 ? '{"id":"ok"}' : '{"error":"down"}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
