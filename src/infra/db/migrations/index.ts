import fs from 'node:fs';
import path from 'node:path';
import type { MigrationObject } from '@mikro-orm/core';

/**
 * Committed migrations, loaded from this folder (Migration<timestamp>_<name>.ts in source,
 * .js when compiled). Listing them explicitly keeps ts-jest, ts-node and dist/ alike.
 */
export function migrationsList(): MigrationObject[] {
  return fs
    .readdirSync(__dirname)
    .filter((f) => /^Migration\d+.*\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .map((file) => {
      const name = file.replace(/\.(ts|js)$/, '');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(__dirname, file));
      return { name, class: mod[name] ?? Object.values(mod)[0] };
    });
}
