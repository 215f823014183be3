/**
 * Watches the MQTT framing of one connection and reports a packet whose
 * declared length is above the limit as soon as its fixed header has arrived,
 * before the body is read: aedes (mqtt-packet) would otherwise buffer any
 * packet up to the protocol's 256 MiB before the payload check in
 * authorizePublish could refuse it.
 *
 * Fed with the bytes aedes reads (a 'data' listener beside aedes' 'readable'
 * one sees each chunk as aedes takes it, without changing the flow).
 */
export class FrameSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Returns the declared length of the first oversize packet (or -1 for a malformed length), else null. */
  push(chunk: Buffer): number | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const b = chunk[i++]!;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes >= 4) return -1; // MQTT allows at most 4 length bytes
          continue;
        }
        if (this.length > this.maxPacketBytes) return this.length;
        this.remaining = this.length;
        this.state = this.remaining > 0 ? 'body' : 'type';
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'type';
      }
    }
    return null;
  }
}

/** Room for the fixed and variable headers around the largest allowed payload (topics of the protocol are short). */
export const PACKET_OVERHEAD_BYTES = 1024;
