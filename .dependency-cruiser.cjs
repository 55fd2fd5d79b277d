/**
 * wh's architecture, enforced by test/architecture/layers.test.ts (see shared/STYLE.md):
 *   cli → dev → sync → store → projections → log;  providers → query → store;  engine and calendar are leaves.
 * Each src folder's index.ts is its only public entry; only src/engine (and the log's SQLite
 * adapter) import a database driver.
 */
const layers = {
  log: [],
  calendar: ['log'],
  pricing: [],
  engine: [],
  projections: ['log'],
  store: ['projections', 'log', 'engine', 'calendar', 'pricing'],
  query: ['store', 'projections', 'log', 'engine', 'calendar', 'pricing'],
  providers: ['query', 'store', 'projections', 'log', 'engine', 'calendar', 'pricing'],
  sync: ['store', 'projections', 'log', 'engine', 'calendar', 'pricing'],
  backup: ['store', 'projections', 'log', 'engine', 'calendar', 'pricing'],
  api: ['providers', 'query', 'backup', 'sync', 'store', 'projections', 'log', 'engine', 'calendar', 'pricing'],
  etl: ['providers', 'query', 'store', 'projections', 'log', 'engine', 'calendar', 'pricing'],
  dev: ['etl', 'sync', 'store', 'projections', 'log', 'engine', 'calendar', 'pricing'],
};
const folders = Object.keys(layers);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...folders.map((from) => ({
      name: `layer-${from}`,
      comment: `src/${from} may import only ${layers[from].length ? layers[from].map((f) => `src/${f}`).join(', ') : 'nothing inside the project'} (shared/STYLE.md)`,
      severity: 'error',
      from: { path: `^src/${from}/` },
      to: {
        path: '^(src|cli)/',
        pathNot: [`^src/${from}/`, ...layers[from].map((f) => `^src/${f}/`)],
      },
    })),
    {
      name: 'main-entry-no-dev',
      comment: "the package's main entry exports nothing of src/dev (use the wh/dev subpath)",
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^(src/dev|cli)/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ is the top: nothing below it imports it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^cli/' },
    },
    {
      name: 'no-circular',
      comment: 'import cycles make the layers unreadable',
      severity: 'error',
      from: { path: '^(src|cli)/' },
      to: { circular: true },
    },
    {
      name: 'no-deep-import',
      comment: "another folder is entered only through its index.ts",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'no-deep-import-from-top',
      comment: "cli/ and src/index.ts enter a src folder only through its index.ts",
      severity: 'error',
      from: { path: '^(cli/|src/index\\.ts$)' },
      to: { path: '^src/[^/]+/.+', pathNot: ['^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'driver-only-in-engine',
      comment: 'only src/engine (and the log adapter for SQLite) import a database driver',
      severity: 'error',
      from: { pathNot: ['^src/engine/', '^src/log/sqlite-adapter\\.ts$', '^(test|bench)/'] },
      to: { path: 'node_modules/(pg|pg-copy-streams|pg-pool|@duckdb/node-api|@duckdb/node-bindings|better-sqlite3)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
