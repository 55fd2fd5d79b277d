import { describe, expect, it } from 'vitest';
import { Gate } from '../../src/sync/wrds/gate.js';

describe('Gate', () => {
  it('admits one holder at a time, in arrival order, and a double release frees it once', async () => {
    const gate = new Gate();
    const order: string[] = [];
    const first = await gate.acquire();
    const b = gate.acquire().then((release) => {
      order.push('b');
      return release;
    });
    const c = gate.acquire().then((release) => {
      order.push('c');
      return release;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    first();
    first();
    const releaseB = await b;
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['b']);
    releaseB();
    (await c)();
    expect(order).toEqual(['b', 'c']);
    const again = await gate.acquire();
    again();
  });
});
