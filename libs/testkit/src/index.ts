export * from './busybox-image';
export * from './dockerd';
export * from './mosquitto';
export * from './ports';
export * from './process';
export * from './procfs';
export * from './tmp';
export * from './wait';
