import { resolve } from 'node:path';
import type { Command } from 'commander';
import { initWarehouse } from '../src/store/index.js';
import { action, emit, whVersion } from './context.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('create a new, empty warehouse')
    .argument('[dir]', 'directory to create it in (default: --warehouse, WH_WAREHOUSE or the current directory)')
    .action(
      action((g, dir: string | undefined) => {
        const res = initWarehouse(dir === undefined ? g.warehouse : resolve(dir), whVersion());
        emit(g, res, () => `initialized warehouse ${res.warehouseId} in ${res.root}\nnext: wh ingest <dataset> --partition <key> <file.csv> --warehouse ${res.root}`);
      }),
    );
}
