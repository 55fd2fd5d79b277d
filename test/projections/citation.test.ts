import { describe, expect, it } from 'vitest';
import { citationDigest } from '../../src/projections/index.js';

const h = (c: string) => c.repeat(64);
const parts = [
  { dataset: 'crsp_msf', partition: '2021', object: h('a') },
  { dataset: 'crsp_msf', partition: '2022', object: h('b') },
  { dataset: 'crsp_dsi', partition: '2021', object: h('c') },
];

describe('citationDigest', () => {
  it('depends on the set of partitions, not their order', () => {
    expect(citationDigest(parts)).toBe(citationDigest([...parts].reverse()));
    expect(citationDigest(parts)).toMatch(/^[0-9a-f]{64}$/);
  });
  it('changes with any object, partition or dataset name', () => {
    const d = citationDigest(parts);
    expect(citationDigest([{ ...parts[0]!, object: h('d') }, ...parts.slice(1)])).not.toBe(d);
    expect(citationDigest([{ ...parts[0]!, partition: '2020' }, ...parts.slice(1)])).not.toBe(d);
    expect(citationDigest([{ ...parts[0]!, dataset: 'crsp_msf2' }, ...parts.slice(1)])).not.toBe(d);
    expect(citationDigest(parts.slice(1))).not.toBe(d);
  });
});
