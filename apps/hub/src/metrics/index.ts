export { METRICS, type MetricSpec } from './metric-table';
export { exportedMetricNames } from './hub-metrics';
