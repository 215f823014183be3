import type { Logger } from '@homelab/logging';

interface Part {
  name: string;
  close: () => Promise<void> | void;
}

/**
 * What a process (the hub, an agent) has started so far, each with the way to
 * stop it. Stopping goes in reverse order (docs/hub-lifecycle.md,
 * docs/agent-lifecycle.md): loops end their cycle in progress before what
 * they write to closes (the hub's root lock is released last, the agent's
 * outbox closes last). A start that fails half-way stops exactly what it had
 * started.
 */
export class StartedParts {
  private readonly parts: Part[] = [];
  private closing: Promise<void> | null = null;

  /** `owner` names the process in errors and logs ("hub", "agent"). */
  constructor(private readonly owner: string) {}

  /** Records a part that is now running; `close` is called once, when the owner stops. */
  add(name: string, close: Part['close']): void {
    if (this.closing) throw new Error(`${name} started while the ${this.owner} is stopping`);
    this.parts.push({ name, close });
  }

  /** Names of the running parts, in start order (for logs and tests). */
  names(): string[] {
    return this.parts.map((p) => p.name);
  }

  /**
   * Stops every part, newest first, each after the one before it has
   * finished. A part that fails to stop is logged and the rest still stop.
   * Calling it again returns the same promise.
   */
  closeAll(log: Logger): Promise<void> {
    this.closing ??= this.closeInReverse(log);
    return this.closing;
  }

  private async closeInReverse(log: Logger): Promise<void> {
    for (let part = this.parts.pop(); part; part = this.parts.pop()) {
      try {
        await part.close();
      } catch (err) {
        log.error({ err, part: part.name }, `could not stop part of the ${this.owner}; stopping the rest`);
      }
    }
  }
}
