/** Health reports over a dataset's objects (docs/concepts/health.md). */
export { reportHealth } from './report.js';
export type { HealthOptions, HealthReportData, HealthTrigger } from './report.js';
export { defaultThresholds } from './checks.js';
export type { HealthThresholds } from './checks.js';
export { healthShape } from './shape.js';
export type { HealthShape } from './shape.js';
