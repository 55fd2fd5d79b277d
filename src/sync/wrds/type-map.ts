/**
 * Source column types, read at run time from `information_schema.columns`, mapped to DuckDB/Parquet
 * types by one declared policy.
 *
 * Numeric policy: `numeric(p,s)` and plain `numeric` become DOUBLE (float64) by default. WRDS
 * declares prices numeric(11,5) and returns numeric(10,6), but researchers compute with floats,
 * plain `numeric` (vol, shrout) has no precision to map to a DECIMAL, and DuckDB's DOUBLE
 * aggregates are faster. `decimal` keeps DECIMAL(p,s) where p <= 38 (exact values, e.g. for
 * accounting reconciliation); plain numeric still becomes DOUBLE.
 */
import { WarehouseError } from '../../log/index.js';

export interface SourceColumn {
  readonly name: string;
  readonly dataType: string;
  readonly precision: number | null;
  readonly scale: number | null;
}

export type NumericPolicy = 'float64' | 'decimal';

export function duckType(c: SourceColumn, policy: NumericPolicy = 'float64'): string {
  switch (c.dataType) {
    case 'smallint':
      return 'SMALLINT';
    case 'integer':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'real':
      return 'FLOAT';
    case 'double precision':
      return 'DOUBLE';
    case 'numeric':
      if (policy === 'decimal' && c.precision !== null && c.precision <= 38) return `DECIMAL(${c.precision},${c.scale ?? 0})`;
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'time without time zone':
      return 'TIME';
    case 'timestamp without time zone':
      return 'TIMESTAMP';
    case 'timestamp with time zone':
      return 'TIMESTAMPTZ';
    case 'boolean':
      return 'BOOLEAN';
    case 'character varying':
    case 'character':
    case 'text':
      return 'VARCHAR';
    default:
      throw new WarehouseError('SCHEMA_DRIFT', `column ${c.name} has type ${c.dataType}, which wh does not map`, {
        suggestion: 'exclude the column in the dataset definition, or report the type so a mapping can be added',
      });
  }
}
