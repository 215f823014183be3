import mqttPacket from 'mqtt-packet';

type WriteToStream = (packet: { cmd?: string; messageId?: unknown }, stream: { write(b: Buffer): boolean }, opts?: unknown) => boolean;

/** PUBACK, MQTT 3.1.1 §3.4: fixed header 0x40, remaining length 2, then the message id (big-endian). */
const PUBACK_HEADER = 0x40;

/** The bytes of the PUBACK of message `id`, as mqtt-packet writes it for aedes (no options: MQTT 3.1.1). */
export function pubackBytes(id: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = PUBACK_HEADER;
  b[1] = 2;
  b[2] = id >> 8;
  b[3] = id & 0xff;
  return b;
}

const fastStreams = new WeakSet<object>();
let installed = false;

/**
 * Writes the PUBACKs aedes sends on `stream` as one 4-byte write, the bytes
 * mqtt-packet's writeToStream writes for them. aedes acknowledges every
 * QoS 1 PUBLISH through writeToStream, which per PUBACK traces to `debug`
 * five times, corks the stream and schedules its uncorking on a tick of its
 * own, and writes three pieces — about three times the cost of the 4 bytes, for
 * every event in the ingest benchmark (docs/benchmarks.md, "Durable ingest").
 *
 * Only PUBACKs aedes writes without options (it speaks MQTT 3.1.1 and 3.1,
 * whose PUBACK is the same) on streams registered here take this path, with
 * a valid message id; everything else, and every other stream in the process
 * (the hub's MQTT.js link shares the module), goes to mqtt-packet as before.
 * The answer is mqtt-packet's for a PUBACK: true (it never reports
 * backpressure for acknowledgements).
 */
export function writePubacksDirectly<S extends object>(stream: S): S {
  if (!installed) {
    installed = true;
    const exports = mqttPacket as unknown as { writeToStream: WriteToStream };
    const original = exports.writeToStream;
    const fast: WriteToStream = (packet, stream, opts) => {
      const id = packet.messageId;
      if (packet.cmd === 'puback' && opts === undefined && fastStreams.has(stream) && typeof id === 'number' && id >= 0 && id <= 0xffff && (id | 0) === id) {
        stream.write(pubackBytes(id));
        return true;
      }
      return original(packet, stream, opts);
    };
    // Its own properties (cacheNumbers) stay reachable as before.
    Object.setPrototypeOf(fast, original);
    exports.writeToStream = fast;
  }
  fastStreams.add(stream);
  return stream;
}
