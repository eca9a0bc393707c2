import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 9, takeover in seconds: a replica's presence names the PostgreSQL backend of its lease
 * session (pid and start time). A replica that dies closes that connection and PostgreSQL ends the
 * backend at once, so the others see it gone in pg_stat_activity and claim its rows without waiting
 * for its leases to expire. Null (rows of replicas from before): only the lease expiry counts.
 */
export class Migration20261201163000_replica_backends extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "fleet_replicas" add column "backend_pid" int null, add column "backend_start" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "fleet_replicas" drop column "backend_pid", drop column "backend_start";`);
  }
}
