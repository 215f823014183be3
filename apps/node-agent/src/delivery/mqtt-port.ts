import type { Logger } from '@homelab/logging';

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
}

/** The agent's one broker connection, as the rest of the agent sees it. */
export interface MqttLink {
  /** Resolves when the broker acknowledged (QoS 1) or the packet was written (QoS 0). */
  publish(topic: string, payload: string, opts: PublishOptions): Promise<void>;
  connected(): boolean;
  /** Ends the connection cleanly (DISCONNECT, so the broker does not send the will). */
  close(): Promise<void>;
}

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  username: string;
  password?: string;
  /** PEM CA to trust for mqtts:// (a private or self-signed broker certificate). */
  caFile?: string;
  /**
   * Published by the broker if the connection dies without a DISCONNECT. The
   * payload is built per connect attempt for `connection` (1, 2, … in this
   * process), the number the birth of that connection carries too.
   */
  will: { topic: string; payload: (connection: number) => string; qos: 1; retain: true };
  /** Subscribed with QoS 1 on every (re)connect. */
  subscriptions: string[];
  /** `connection`: the attempt that succeeded, the one its will was built for. */
  onConnect(info: { sessionPresent: boolean; connection: number }): void;
  onClose(): void;
  onMessage(topic: string, payload: Buffer): void;
  log: Logger;
}

/** Creates the link and starts connecting (and reconnecting) at once. Only main.ts passes the real one. */
export type ConnectMqtt = (opts: MqttLinkOptions) => MqttLink;
