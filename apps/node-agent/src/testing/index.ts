// Test helpers other packages' tests may use (`@homelab/node-agent/testing`).
export { TcpGate } from './tcp-gate';
