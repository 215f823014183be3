import { createHmac } from 'node:crypto';
import type { WebhookBody } from '@homelab/contracts';
import type { NotifyConfig } from '../config';
import type { Delivered, OutboxMessage } from '../outbox';
import { render } from '../render';
import { httpFailure, requestSignal, type Channel, type DeliverOptions } from './channel';

/** `sha256=<hex>` over the exact body bytes (docs/notifications.md "Webhook"). */
export const signBody = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A generic webhook: one signed JSON POST per delivery (docs/notifications.md "Webhook"). */
export class WebhookChannel implements Channel {
  readonly name = 'webhook' as const;

  constructor(
    private readonly c: NonNullable<NotifyConfig['webhook']>,
    private readonly uiUrl: string | undefined,
  ) {}

  async deliver(m: OutboxMessage, d: Delivered, o: DeliverOptions): Promise<void> {
    const r = render(m, o.changed, this.uiUrl);
    const states = Object.values(m.items)
      .map((i) => `${i.key}=${i.state}`)
      .sort()
      .join(',');
    const body: WebhookBody & { quiet?: true } = {
      // The same content gets the same id: a receiver can drop the repeat a crash right after sending causes.
      deliveryId: `${m.key}#${states}`,
      messageKey: m.key,
      kind: o.first ? 'opened' : 'update',
      sentAt: new Date(o.nowMs).toISOString(),
      node: m.node,
      items: Object.values(m.items),
      changed: o.changed,
      text: o.first ? r.text : r.update,
      ...(this.uiUrl ? { ui: this.uiUrl } : {}),
      ...(o.silent ? { quiet: true as const } : {}),
    };
    await this.post(body, o.signal);
    d.count += 1;
  }

  sendTest(text: string): Promise<void> {
    const now = new Date().toISOString();
    return this.post({ deliveryId: `test#${now}`, messageKey: 'test', kind: 'test', sentAt: now, items: [], changed: [], text });
  }

  private async post(payload: WebhookBody, signal?: AbortSignal): Promise<void> {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-homelab-delivery': payload.deliveryId.slice(0, 400) };
    if (this.c.secret) headers['x-homelab-signature'] = signBody(this.c.secret, body);
    const res = await fetch(this.c.url, { method: 'POST', headers, body, signal: requestSignal(signal) });
    if (!res.ok) throw await httpFailure(`webhook ${this.c.url}`, res);
    await res.body?.cancel();
  }
}
