/**
 * Backups of the warehouse: encrypted (AES-256-GCM), incremental (content-addressed objects go
 * once), to a directory or an rclone remote; restore, verify, the restore drill, repair and key
 * rotation. Every run, drill, repair and rotation is an event in the log.
 */
export * from './crypto.js';
export * from './target.js';
export * from './manifest.js';
export * from './run.js';
export * from './restore.js';
export * from './repair.js';
export * from './drill.js';
export * from './rotate.js';
