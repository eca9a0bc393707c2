// Layering rules for fleetgraph (see docs/architecture.md). Run with `npm run lint:deps`.
//
//   src/kernel      imports nothing of the project
//   src/infra       kernel, entities
//   src/platform    kernel, infra, entities
//   src/modules/X   kernel, infra, platform, entities, itself, other modules only through src/modules/Y/index.ts
//   entities        entities, kernel
//   edge            resolvers/, src/graphql, src/server, src/app: the only code that sees the request Context
//   src/app         composition root: imported only by src/main.ts, src/cli, test, bench
//
// The rules are written so that one bad import is reported by one rule, not several.

/** Any file of the project (everything else is node_modules or a Node builtin). */
const PROJECT = '^(src|resolvers|entities|test|bench|scripts)/';
/** The request edge: Context, transports, resolvers, composition root. */
const EDGE = '^(src/graphql|src/server|src/app|resolvers)/';
/** Domain layers below the edge. */
const CORE = '^src/(kernel|infra|platform|modules)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles are forbidden: break the cycle by moving the shared piece down a layer (kernel, infra or platform).',
      from: { path: '^(src|resolvers|entities)/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'This import cannot be resolved: a moved file or a missing package.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'core-not-edge',
      severity: 'error',
      comment: 'kernel/infra/platform/modules run without a request: take a Scope and plain ids, never import src/graphql, src/server, src/app or resolvers/.',
      from: { path: CORE },
      to: { path: EDGE },
    },
    {
      name: 'kernel-imports-nothing',
      severity: 'error',
      comment: 'src/kernel is the bottom layer: it may import only node_modules, Node builtins and itself.',
      from: { path: '^src/kernel/' },
      to: { path: PROJECT, pathNot: ['^src/kernel/', EDGE] },
    },
    {
      name: 'infra-only-kernel',
      severity: 'error',
      comment: 'src/infra may import only src/kernel, entities/ and itself.',
      from: { path: '^src/infra/' },
      to: { path: PROJECT, pathNot: ['^(src/kernel|src/infra|entities)/', EDGE] },
    },
    {
      name: 'platform-only-kernel-infra',
      severity: 'error',
      comment: 'src/platform may import only src/kernel, src/infra, entities/ and itself (never a module).',
      from: { path: '^src/platform/' },
      to: { path: PROJECT, pathNot: ['^(src/kernel|src/infra|src/platform|entities)/', EDGE] },
    },
    {
      name: 'modules-only-lower-layers',
      severity: 'error',
      comment: 'src/modules may import only src/kernel, src/infra, src/platform, entities/ and src/modules.',
      from: { path: '^src/modules/' },
      to: { path: PROJECT, pathNot: ['^(src/kernel|src/infra|src/platform|src/modules|entities)/', EDGE] },
    },
    {
      name: 'modules-through-index',
      severity: 'error',
      comment: "A module may use another module only through that module's index.ts (its public API).",
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'entities-are-plain',
      severity: 'error',
      comment: 'entities/ are plain rows: they may import only entities/ and src/kernel (no GraphQL ids, no Docker clients).',
      from: { path: '^entities/' },
      to: { path: PROJECT, pathNot: '^(entities|src/kernel)/' },
    },
    {
      name: 'context-only-at-edge',
      severity: 'error',
      comment: 'Only resolvers/, src/graphql, src/server and src/app may see the request Context (src/graphql/context.ts).',
      // kernel/infra/platform/modules and entities/ are already covered by the rules above.
      from: { pathNot: ['^(resolvers|src/graphql|src/server|src/app)/', CORE, '^entities/'] },
      to: { path: '^src/graphql/context\\.ts$' },
    },
    {
      name: 'app-only-from-entry',
      severity: 'error',
      comment: 'src/app is the composition root: only src/main.ts, src/cli, test/ and bench/ may import it.',
      // kernel/infra/platform/modules and entities/ are already covered by the rules above.
      from: { pathNot: ['^src/main\\.ts$', '^src/(app|cli)/', '^(test|bench)/', CORE, '^entities/'] },
      to: { path: '^src/app/' },
    },
    {
      name: 'server-not-modules',
      severity: 'error',
      comment: 'src/server is transports only: it gets services from src/app, never from src/modules directly.',
      from: { path: '^src/server/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'graphql-not-resolvers',
      severity: 'error',
      comment: 'src/graphql is the API kit: it must not import resolvers/ (the schema is built in src/app).',
      from: { path: '^src/graphql/' },
      to: { path: '^resolvers/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    // Type-only imports count: a manager that imports the Context type still depends on the request edge.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json', '.d.ts'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
