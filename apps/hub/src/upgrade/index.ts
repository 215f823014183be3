export { refuseNewerDataRoot, findNewerFiles, newerFilesMessage, type NewerFile } from './check-root';
export { upgradeDataRoot, type UpgradeReport } from './upgrade-root';
export { LAYOUT_FILE, LAYOUT_VERSION } from './layout-file';
