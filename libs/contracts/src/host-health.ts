/**
 * Host health a node's heartbeat carries (docs/host-health.md): what the
 * Raspberry Pi firmware's throttling bits mean. Declared once for the node page,
 * the supervisor's findings and /metrics.
 */
export const THROTTLE_CONDITIONS = [
  { bit: 0x1, key: 'under_voltage', text: 'under-voltage' },
  { bit: 0x2, key: 'frequency_capped', text: 'ARM frequency capped' },
  { bit: 0x4, key: 'throttled', text: 'throttled' },
  { bit: 0x8, key: 'soft_temp_limit', text: 'soft temperature limit' },
] as const;
export type ThrottleCondition = (typeof THROTTLE_CONDITIONS)[number];

/** The same four conditions, as having occurred since boot, sit 16 bits higher. */
const SINCE_BOOT_SHIFT = 16;

/** The conditions of `vcgencmd get_throttled` bits: those holding now, and those that occurred since boot. */
export function throttleConditions(bits: number): { now: ThrottleCondition[]; sinceBoot: ThrottleCondition[] } {
  // Bit tests on values above 2^31 need unsigned arithmetic (>>> 0).
  const has = (mask: number) => ((bits >>> 0) & mask) !== 0;
  return {
    now: THROTTLE_CONDITIONS.filter((c) => has(c.bit)),
    sinceBoot: THROTTLE_CONDITIONS.filter((c) => has(c.bit << SINCE_BOOT_SHIFT)),
  };
}

/**
 * Default CPU temperature above which the supervisor reports a `host_temperature`
 * finding: a Raspberry Pi 4/5 starts to throttle at 80 °C, so 75 °C warns before it.
 */
export const HOST_TEMP_FINDING_C = 75;
