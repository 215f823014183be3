export { startHub, type RunningHub } from './hub';
export { resolveHubConfig, HubConfig, type HubFlags } from './config';
export { HubError } from './errors';
export { loadDesired, formatProblems } from './desired';
export { replay } from './observer/observer';
