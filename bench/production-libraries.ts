/**
 * Imported first by benchmarks that time the server: its libraries run as the Dockerfile runs
 * them, with NODE_ENV=production (graphql-js then skips the multi-realm check it makes on every
 * type test in development: about a fifth of the execution of a 5,000-row page). The app's own
 * config is not affected: startTestApp hands loadConfig an environment of its own.
 * BENCH_NODE_ENV=development measures development mode instead.
 */
process.env.NODE_ENV = process.env.BENCH_NODE_ENV ?? 'production';

export const LIBRARY_MODE = process.env.NODE_ENV;
