/**
 * Schema fingerprints and drift: a dataset's columns (name + type, in order) are registered on its
 * first write. A later write may add columns (accepted, with a warning); removing a column or
 * changing a type is refused unless the caller accepts it deliberately.
 */
import { canonicalJson, sha256Hex, type Column } from '../log/index.js';

export function schemaFingerprint(columns: readonly Column[]): string {
  return sha256Hex(canonicalJson(columns.map((c) => ({ name: c.name, type: c.type }))));
}

export interface SchemaDiff {
  readonly added: Column[];
  readonly removed: Column[];
  readonly changed: { name: string; from: string; to: string }[];
}

export function diffSchemas(before: readonly Column[], after: readonly Column[]): SchemaDiff {
  const old = new Map(before.map((c) => [c.name, c.type]));
  const now = new Map(after.map((c) => [c.name, c.type]));
  return {
    added: after.filter((c) => !old.has(c.name)),
    removed: before.filter((c) => !now.has(c.name)),
    changed: after
      .filter((c) => old.has(c.name) && old.get(c.name) !== c.type)
      .map((c) => ({ name: c.name, from: old.get(c.name)!, to: c.type })),
  };
}

export const isBreaking = (d: SchemaDiff): boolean => d.removed.length > 0 || d.changed.length > 0;

export function describeDiff(d: SchemaDiff): string {
  const parts: string[] = [];
  if (d.added.length > 0) parts.push(`added ${d.added.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  if (d.removed.length > 0) parts.push(`removed ${d.removed.map((c) => c.name).join(', ')}`);
  if (d.changed.length > 0) parts.push(`changed ${d.changed.map((c) => `${c.name} ${c.from} -> ${c.to}`).join(', ')}`);
  return parts.join('; ');
}
