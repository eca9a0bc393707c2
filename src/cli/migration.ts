import 'reflect-metadata';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions, withSnapshot } from '../infra/db/orm';

/**
 * npm run migration:create [-- --name <name>]: diffs the entities against the committed
 * snapshot and writes src/infra/db/migrations/Migration<timestamp>_<name>.ts. Needs DATABASE_URL.
 */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required to create a migration');
  const nameIdx = process.argv.indexOf('--name');
  const name = nameIdx > 0 ? process.argv[nameIdx + 1] : undefined;
  const orm = await MikroORM.init(withSnapshot(ormOptions(url)));
  try {
    const migrator = orm.getMigrator();
    const result = await migrator.createMigration(path.join(__dirname, '..', 'infra', 'db', 'migrations'), false, false, name);
    if (!result.fileName) console.log('no changes: entities match the snapshot');
    else console.log(`wrote src/infra/db/migrations/${result.fileName}`);
  } finally {
    await orm.close(true);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
