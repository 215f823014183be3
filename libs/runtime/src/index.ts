export { keepAliveClock } from './keep-alive-clock';
export { LoopStoppedError, PeriodicLoop, type PeriodicLoopOptions } from './periodic-loop';
export { StartedParts } from './started-parts';
