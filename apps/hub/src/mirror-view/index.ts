export { buildMirrorView, type MirrorViewOptions } from './server';
export { MIRROR_VIEW_SETTINGS, isLoopbackHost } from './settings';
