/** `wh taq sync`'s symbol arguments: a list, sp500, or a file with comments; bad input named. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { symbolsFrom } from '../../cli/taq.js';

describe('taq sync symbols', () => {
  it('reads a list, sp500, and a file with comments, blank lines and commas', () => {
    expect(symbolsFrom({ symbols: 'aapl, MSFT,brk.b' })).toEqual({ kind: 'list', symbols: ['AAPL', 'MSFT', 'BRK.B'] });
    expect(symbolsFrom({ symbols: 'SP500' })).toEqual({ kind: 'sp500' });
    const f = join(mkdtempSync(join(tmpdir(), 'wh-taq-sym-')), 'tickers.txt');
    writeFileSync(f, '# my sample\nAAPL\n\nMSFT, IBM  # blue chips\r\n');
    expect(symbolsFrom({ symbolsFile: f })).toEqual({ kind: 'list', symbols: ['AAPL', 'MSFT', 'IBM'] });
  });
  it('refuses both or neither option, bad symbols, empty and unreadable files', () => {
    expect(() => symbolsFrom({})).toThrow(/exactly one of --symbols and --symbols-file/);
    expect(() => symbolsFrom({ symbols: 'A', symbolsFile: 'f' })).toThrow(/exactly one/);
    expect(() => symbolsFrom({ symbols: "AAPL,DROP'TABLE" })).toThrow(/not a TAQ symbol: DROP'TABLE/);
    expect(() => symbolsFrom({ symbols: ' , ' })).toThrow(/no symbols given/);
    expect(() => symbolsFrom({ symbolsFile: '/nonexistent/x.txt' })).toThrow(/cannot read --symbols-file/);
  });
});
