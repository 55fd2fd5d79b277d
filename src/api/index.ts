/**
 * The library's writer: tags and holds, ingest, WRDS sync and verify through one handle. Reading
 * is `openWarehouse` (src/query); both are re-exported by the package's main entry.
 */
export { openWriter } from './writer.js';
export type { WriterOptions, WarehouseWriter, IngestFileOptions, SyncWrdsOptions } from './writer.js';
export { libraryVersion } from './version.js';
