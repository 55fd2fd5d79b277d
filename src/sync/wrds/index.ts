/** Sync from WRDS (a PostgreSQL server): catalogue, credentials, type policy, validation gate, manager. */
export * from './catalogue.js';
export * from './credentials.js';
export * from './type-map.js';
export * from './vintage.js';
export * from './validate.js';
export * from './sync-manager.js';
export * from './status.js';
