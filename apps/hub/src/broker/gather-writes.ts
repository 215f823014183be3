/** What gatherWrites needs of a stream: a socket, a TLS socket, any Writable. */
export interface GatherableStream {
  write(...args: never[]): boolean;
  end(...args: never[]): unknown;
  destroy(...args: never[]): unknown;
  cork(): void;
  uncork(): void;
  destroyed: boolean;
  writableNeedDrain: boolean;
}

type Chunk = Buffer | Uint8Array | string;
type Callback = (err?: Error | null) => void;

const asBytes = (chunk: Chunk, encoding: unknown): Buffer => {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
};

/**
 * Gathers the writes of one tick into one buffer handed to the stream in one
 * write (process.nextTick, the moment mqtt-packet uncorks a stream). The bytes
 * and their order are unchanged, and nothing is held past the current tick.
 *
 * Why: aedes acknowledges every QoS 1 PUBLISH with its own PUBACK, which
 * mqtt-packet writes as three chunks (header, length, message id); corking
 * already made that one system call per read, but every chunk still took the
 * stream's whole write path (state checks, a buffered entry each, a writev of
 * 3 × N pieces) — about 9 % of the hub's CPU in the ingest
 * benchmark (docs/benchmarks.md, "Durable ingest"). Gathered, a read's PUBACKs
 * are one Buffer and one write.
 *
 * Safe to close: `end` and `destroy` hand on what was gathered first (what a
 * connection's last PUBACK or delivery needs before it is closed); a write
 * with a callback is handed on at once, after what was gathered, so its
 * callback means what it always did. cork/uncork become no-ops: gathering is
 * the cork, and a stream left corked would hold the gathered write.
 * The answer of a gathered write is the stream's own backpressure
 * (`writableNeedDrain`), so a full socket still makes the writer wait.
 */
export function gatherWrites<S extends GatherableStream>(stream: S): S {
  const write = stream.write.bind(stream) as (chunk: Buffer, cb?: Callback) => boolean;
  const end = stream.end.bind(stream) as (...args: unknown[]) => unknown;
  const destroy = stream.destroy.bind(stream) as (...args: unknown[]) => unknown;
  let gathered: Buffer[] = [];
  let bytes = 0;
  let scheduled = false;

  const handOn = (cb?: Callback): boolean => {
    if (gathered.length === 0) return cb ? write(Buffer.alloc(0), cb) : !stream.writableNeedDrain;
    const one = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, bytes);
    gathered = [];
    bytes = 0;
    return write(one, cb);
  };
  const onTick = () => {
    scheduled = false;
    if (gathered.length > 0) handOn();
  };

  const s = stream as unknown as Record<string, unknown>;
  s.write = (chunk: Chunk, encoding?: unknown, cb?: unknown): boolean => {
    const callback = (typeof encoding === 'function' ? encoding : cb) as Callback | undefined;
    const b = asBytes(chunk, encoding);
    gathered.push(b);
    bytes += b.length;
    if (callback) return handOn(callback);
    if (!scheduled) {
      scheduled = true;
      process.nextTick(onTick);
    }
    return !stream.writableNeedDrain;
  };
  s.end = (...args: unknown[]) => {
    if (gathered.length > 0 && !stream.destroyed) handOn();
    return end(...args);
  };
  s.destroy = (...args: unknown[]) => {
    if (gathered.length > 0 && !stream.destroyed) handOn();
    return destroy(...args);
  };
  s.cork = () => undefined;
  s.uncork = () => undefined;
  return stream;
}
