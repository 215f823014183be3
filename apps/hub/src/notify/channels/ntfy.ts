import type { NotifyConfig } from '../config';
import type { Delivered, OutboxMessage } from '../outbox';
import { render } from '../render';
import { httpFailure, requestSignal, type Channel, type DeliverOptions } from './channel';

/**
 * ntfy: one POST per delivery to `<url>/<topic>` (docs/notifications.md
 * "ntfy"). ntfy cannot edit, so each change is a follow-up message.
 */
export class NtfyChannel implements Channel {
  readonly name = 'ntfy' as const;

  constructor(
    private readonly c: NonNullable<NotifyConfig['ntfy']>,
    private readonly uiUrl: string | undefined,
  ) {}

  async deliver(m: OutboxMessage, d: Delivered, o: DeliverOptions): Promise<void> {
    const r = render(m, o.changed, this.uiUrl);
    const priority = o.silent ? 1 : r.needsDecision ? 4 : 3;
    await this.post(o.first ? r.title : `${m.node}: update`, o.first ? r.text : r.update, priority, r.needsDecision ? 'warning' : 'white_check_mark', o.signal);
    d.count += 1;
  }

  sendTest(text: string): Promise<void> {
    return this.post('homelab: test', text, 3, 'test_tube');
  }

  private async post(title: string, body: string, priority: number, tag: string, signal?: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { title, priority: String(priority), tags: tag, 'content-type': 'text/plain; charset=utf-8' };
    if (this.uiUrl) headers.click = this.uiUrl;
    if (this.c.token) headers.authorization = `Bearer ${this.c.token}`;
    const res = await fetch(`${this.c.url}/${this.c.topic}`, { method: 'POST', headers, body, signal: requestSignal(signal) });
    if (!res.ok) throw await httpFailure(`ntfy ${this.c.url}`, res);
    await res.body?.cancel();
  }
}
