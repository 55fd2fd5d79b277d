/**
 * The event schemas (zod) load on first use, not when the log is imported: a command that only
 * reads projections (`wh query`, `wh status`) never builds them. `eventCatalog()` returns the
 * module `events.ts`, loaded synchronously the first time (Node's require of an ES module,
 * available since Node 20.19), because the log's append and read are synchronous.
 */
import { createRequire } from 'node:module';

type Events = typeof import('./events.js');

// Under a TypeScript runner (the test suite imports sources) require cannot load a .ts file:
// load the module eagerly there instead.
let events: Events | undefined = import.meta.url.endsWith('.ts') ? await import('./events.js') : undefined;

/** The event catalogue: schemas, versions, upcasters, scope rules. */
export function eventCatalog(): Events {
  events ??= createRequire(import.meta.url)('./events.js') as Events;
  return events;
}
