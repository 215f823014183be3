/** Why an inbound MQTT message was not accepted; each reason is counted (visible in /summary and /api/health). */
export type RejectReason =
  | 'unknown_topic'
  | 'too_large'
  | 'not_json'
  | 'invalid_schema'
  | 'node_mismatch'
  /** An event whose predecessor (prevSeq) the hub does not hold: refused with a gap ack, the agent resends. */
  | 'gap'
  | 'write_failed';

export class IngestCounters {
  accepted = 0;
  duplicates = 0;
  results = 0;
  statuses = 0;
  readonly rejected: Record<RejectReason, number> = {
    unknown_topic: 0,
    too_large: 0,
    not_json: 0,
    invalid_schema: 0,
    node_mismatch: 0,
    gap: 0,
    write_failed: 0,
  };

  reject(reason: RejectReason, messages = 1): void {
    this.rejected[reason] += messages;
  }

  snapshot() {
    return { accepted: this.accepted, duplicates: this.duplicates, results: this.results, statuses: this.statuses, rejected: { ...this.rejected } };
  }
}
