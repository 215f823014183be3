/** What coalesceWrites needs of a stream: a socket, a TLS socket, any Writable. */
export interface Corkable {
  write(...args: never[]): boolean;
  cork(): void;
  uncork(): void;
  destroy(...args: never[]): unknown;
  destroyed?: boolean;
}

/**
 * Makes the writes of one turn of the event loop leave in one system call:
 * the first write of a turn corks the stream, and it is uncorked when the
 * turn's I/O callbacks are done (setImmediate), or before it is destroyed.
 * The bytes and their order are unchanged; only how many writes carry them.
 *
 * Why: an MQTT client acknowledges every QoS 1 message it receives with its
 * own PUBACK, and MQTT.js handles the messages of one read one by one, each
 * on its own tick, so each PUBACK was a `writev` of 4 bytes — a fifth of the
 * hub's CPU in the `--mqtt-url` ingest benchmark (docs/benchmarks.md,
 * "Durable ingest"). Coalesced, a read's PUBACKs leave together.
 */
export function coalesceWrites<S extends Corkable>(stream: S): S {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let corked = false;
  const release = () => {
    corked = false;
    if (!stream.destroyed) stream.uncork();
  };
  (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      setImmediate(release);
    }
    return write(...args);
  };
  // Destroying drops what a stream buffers; what was written before goes first, as it would have without the cork.
  const destroy = stream.destroy.bind(stream) as (...args: unknown[]) => unknown;
  (stream as unknown as { destroy: (...args: unknown[]) => unknown }).destroy = (...args: unknown[]) => {
    if (corked && !stream.destroyed) {
      corked = false;
      stream.uncork();
    }
    return destroy(...args);
  };
  return stream;
}
