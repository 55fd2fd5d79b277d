/**
 * DDL for the sample: schemas, tables (in the vendor schema when the relation is a view), the
 * WRDS-style views, comments with vintages, indexes. Identifiers are checked, never interpolated raw.
 */
import type { PgSession } from '../pg-server.js';
import { WarehouseError } from '../../log/index.js';
import type { TableSpec } from './catalog.js';
import { vintageComment } from './vintage.js';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const TYPE = /^[a-z][a-z0-9_ ]*(\(\d+(,\s?\d+)?\))?$/;

/** Quotes a lower-case SQL identifier after checking it. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new WarehouseError('INVALID_ARGUMENT', `not a plain lower-case identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Checks a column type such as `numeric(11,5)` or `double precision`. */
export function sqlType(type: string): string {
  if (!TYPE.test(type)) throw new WarehouseError('INVALID_ARGUMENT', `not a column type: ${JSON.stringify(type)}`);
  return type;
}

/** Splits 'schema.name' into checked parts. */
export function splitName(qualified: string): { schema: string; name: string; sql: string } {
  const [schema, name, extra] = qualified.split('.');
  if (schema === undefined || name === undefined || extra !== undefined) {
    throw new WarehouseError('INVALID_ARGUMENT', `expected 'schema.table', got ${JSON.stringify(qualified)}`);
  }
  return { schema, name, sql: `${ident(schema)}.${ident(name)}` };
}

/** Where the rows of `spec` are stored (the vendor table under a view). */
export function storageOf(spec: TableSpec): string {
  return `${ident(spec.vendorSchema ?? spec.schema)}.${ident(spec.name)}`;
}

/** Drops and recreates every schema `specs` use, then creates the storage tables. */
export async function createStorage(session: PgSession, specs: readonly TableSpec[]): Promise<void> {
  const schemas = [...new Set(specs.flatMap((s) => (s.vendorSchema === undefined ? [s.schema] : [s.schema, s.vendorSchema])))];
  for (const schema of schemas) {
    await session.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    await session.query(`CREATE SCHEMA ${ident(schema)}`);
  }
  for (const spec of specs) {
    const columns = spec.columns.map((c) => `${ident(c.name)} ${sqlType(c.type)}`).join(', ');
    await session.query(`CREATE TABLE ${storageOf(spec)} (${columns})`);
  }
}

/** After loading: indexes, views over vendor tables, comments with the vintage (autovacuum analyzes later). */
export async function finishRelations(session: PgSession, specs: readonly TableSpec[], vintage: string): Promise<void> {
  for (const spec of specs) {
    if (spec.indexOn !== undefined) {
      const indexName = ident(`${spec.name}_${spec.indexOn.join('_')}_idx`.slice(0, 63));
      await session.query(`CREATE INDEX ${indexName} ON ${storageOf(spec)} (${spec.indexOn.map(ident).join(', ')})`);
    }
    const visible = `${ident(spec.schema)}.${ident(spec.name)}`;
    if (spec.vendorSchema !== undefined) await session.query(`CREATE VIEW ${visible} AS SELECT * FROM ${storageOf(spec)}`);
    const kind = spec.vendorSchema === undefined ? 'TABLE' : 'VIEW';
    await session.query(`COMMENT ON ${kind} ${visible} IS ${literal(vintageComment(spec.form, spec.title, vintage))}`);
  }
}

/** A SQL string literal (standard_conforming_strings is on). */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
