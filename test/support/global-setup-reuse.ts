import fs from 'node:fs';
import path from 'node:path';

/**
 * Alternative jest globalSetup for running suites that need only PostgreSQL and Redis against
 * services that already run (written by a previous `services.sh up`), without touching dockerd:
 *   npx jest --globalSetup ./test/support/global-setup-reuse.ts test/integration/foundation-…
 */
export default async function globalSetupReuse(): Promise<void> {
  const file = path.resolve(__dirname, '..', '..', '.data', 'test-env.json');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run the suite once with npm test (or test/support/services.sh up)`);
}
