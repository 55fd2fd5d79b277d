/**
 * Small, explicit changes to a generated source, for incremental-sync tests: what WRDS does
 * between two pulls. Each works on a table or on a WRDS-style view over a vendor table (the view
 * is rebuilt around the change and keeps its comment).
 */
import type { PgSession } from '../pg-server.js';
import { WarehouseError } from '../../log/index.js';
import type { Cell } from './copy-text.js';
import { ident, literal, splitName, sqlType } from './ddl.js';
import { parseVintage, vintageComment } from './vintage.js';

/** What a relation is and where its rows live. */
export interface RelationInfo {
  readonly kind: 'table' | 'view';
  readonly comment: string | null;
  /** The quoted storage table ('"crsp_a_stock"."dsf"' under the view 'crsp.dsf'). */
  readonly storageSql: string;
  readonly storageSchema: string;
  readonly storageName: string;
  readonly sql: string;
}

/** Looks up `table` ('schema.name'); throws `WarehouseError('INVALID_ARGUMENT')` if it does not exist. */
export async function describeRelation(session: PgSession, table: string): Promise<RelationInfo> {
  const { schema, name, sql } = splitName(table);
  const { rows } = await session.query<{ relkind: string; comment: string | null }>(
    `SELECT c.relkind, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'v')`, [schema, name]);
  const rel = rows[0];
  if (rel === undefined) throw new WarehouseError('INVALID_ARGUMENT', `no table or view ${table}`);
  if (rel.relkind === 'r') return { kind: 'table', comment: rel.comment, storageSql: sql, storageSchema: schema, storageName: name, sql };
  const base = await session.query<{ table_schema: string; table_name: string }>(
    'SELECT table_schema, table_name FROM information_schema.view_table_usage WHERE view_schema = $1 AND view_name = $2', [schema, name]);
  const b = base.rows[0];
  if (b === undefined || base.rows.length !== 1) throw new WarehouseError('INVALID_ARGUMENT', `view ${table} is not a view over one table`);
  return { kind: 'view', comment: rel.comment, storageSql: `${ident(b.table_schema)}.${ident(b.table_name)}`, storageSchema: b.table_schema, storageName: b.table_name, sql };
}

/**
 * Overwrites columns of the rows matching `key` (a vendor correction or restatement).
 * Returns how many rows changed.
 *
 * @example
 * await correctRow(session, 'crsp.dsf', { permno: 10001, date: '2024-12-31' }, { prc: 12.34, ret: 0.01 });
 */
export async function correctRow(session: PgSession, table: string, key: Record<string, Cell>, changes: Record<string, Cell>): Promise<number> {
  const rel = await describeRelation(session, table);
  const sets = Object.keys(changes);
  const keys = Object.keys(key);
  if (sets.length === 0 || keys.length === 0) throw new WarehouseError('INVALID_ARGUMENT', 'correctRow needs a key and at least one change');
  const params = [...sets.map((c) => changes[c] ?? null), ...keys.map((k) => key[k] ?? null)];
  const sql = `UPDATE ${rel.sql} SET ${sets.map((c, i) => `${ident(c)} = $${i + 1}`).join(', ')}
    WHERE ${keys.map((k, i) => `${ident(k)} IS NOT DISTINCT FROM $${sets.length + i + 1}`).join(' AND ')}`;
  return (await session.query(sql, params)).rowCount;
}

/**
 * Rewrites the relation's comment to vintage `newDate` ('YYYY-MM-DD'), keeping its form and title.
 * Returns the comments before and after.
 */
export async function bumpVintage(session: PgSession, table: string, newDate: string): Promise<{ before: string; after: string }> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(newDate)) throw new WarehouseError('INVALID_ARGUMENT', `vintage must be YYYY-MM-DD, got ${newDate}`);
  const rel = await describeRelation(session, table);
  const parsed = parseVintage(rel.comment);
  if (rel.comment === null || parsed === null) throw new WarehouseError('INVALID_ARGUMENT', `${table} carries no vintage comment`);
  const after = vintageComment(parsed.form, parsed.title ?? '', newDate);
  await session.query(`COMMENT ON ${rel.kind === 'view' ? 'VIEW' : 'TABLE'} ${rel.sql} IS ${literal(after)}`);
  return { before: rel.comment, after };
}

/** Adds `column` of `type` at the end (optionally filled with `fill` in every row). */
export async function addColumn(session: PgSession, table: string, column: string, type: string, fill?: Cell): Promise<void> {
  await alterShape(session, table, async (rel) => {
    await session.query(`ALTER TABLE ${rel.storageSql} ADD COLUMN ${ident(column)} ${sqlType(type)}`);
    if (fill !== undefined) await session.query(`UPDATE ${rel.storageSql} SET ${ident(column)} = $1`, [fill]);
  });
}

/** Drops `column`. */
export async function dropColumn(session: PgSession, table: string, column: string): Promise<void> {
  await alterShape(session, table, (rel) => session.query(`ALTER TABLE ${rel.storageSql} DROP COLUMN ${ident(column)}`));
}

/** Changes the type of `column` (values cast with `column::type`), e.g. numeric(11,5) → double precision. */
export async function changeColumnType(session: PgSession, table: string, column: string, type: string): Promise<void> {
  await alterShape(session, table, (rel) =>
    session.query(`ALTER TABLE ${rel.storageSql} ALTER COLUMN ${ident(column)} TYPE ${sqlType(type)} USING ${ident(column)}::${sqlType(type)}`));
}

/** Runs `alter` on the storage table in one transaction, rebuilding a view around it. */
async function alterShape(session: PgSession, table: string, alter: (rel: RelationInfo) => Promise<unknown>): Promise<void> {
  const rel = await describeRelation(session, table);
  await session.query('BEGIN');
  try {
    if (rel.kind === 'view') await session.query(`DROP VIEW ${rel.sql}`);
    await alter(rel);
    if (rel.kind === 'view') {
      await session.query(`CREATE VIEW ${rel.sql} AS SELECT * FROM ${rel.storageSql}`);
      if (rel.comment !== null) await session.query(`COMMENT ON VIEW ${rel.sql} IS ${literal(rel.comment)}`);
    }
    await session.query('COMMIT');
  } catch (error) {
    await session.query('ROLLBACK');
    throw error;
  }
}

/** The storage table's current column names, in order. */
export async function storageColumns(session: PgSession, rel: RelationInfo): Promise<string[]> {
  const { rows } = await session.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [rel.storageSchema, rel.storageName]);
  return rows.map((r) => r.column_name);
}
