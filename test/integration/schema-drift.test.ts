import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions, withSnapshot } from '../../src/infra/db/orm';
import { startTestApp, TestApp } from '../support/app';

/**
 * The entities are the map of the schema: on a database the migrations built, the ORM finds
 * nothing to change, and `npm run migration:create` writes nothing. A migration that adds what no
 * entity declares (or an entity change without its migration) fails here; migration:create would
 * otherwise propose to undo it in the next migration.
 */
describe('schema: migrations, entities and the committed snapshot agree', () => {
  let t: TestApp;
  let tooling: MikroORM;
  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    tooling = await MikroORM.init(withSnapshot(ormOptions(t.databaseUrl)));
  });
  afterAll(async () => {
    await tooling?.close(true);
    await t?.stop();
  });

  it('a migrated database needs no change to match the entities', async () => {
    const sql = await t.app.services.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    expect(sql.trim().split('\n').filter(Boolean)).toEqual([]);
  });

  it('the committed snapshot matches the entities (migration:create would write nothing)', async () => {
    expect(await tooling.getMigrator().checkMigrationNeeded()).toBe(false);
  });
});
