// The two modules of systeminformation the agent loads (host-health.ts): the
// package's index loads all of them, about 3 MB more resident memory
// (docs/host-health.md). Typed by the package's own declarations.
declare module 'systeminformation/lib/cpu.js' {
  export { cpuTemperature } from 'systeminformation';
}
declare module 'systeminformation/lib/memory.js' {
  export { mem } from 'systeminformation';
}
