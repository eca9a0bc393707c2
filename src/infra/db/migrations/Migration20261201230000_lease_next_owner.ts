import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 9, SIGTERM hand-off with no pause: a replica that stops leaves the fleet first and keeps
 * reading while the others reserve its rows (lease_next_owner), open their own streams, and only
 * then take the lease (src/platform/leasing/leased-fleet.ts). A claim of a free row clears any
 * reservation on it.
 */
export class Migration20261201230000_lease_next_owner extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "docker_hosts" add column "lease_next_owner" varchar(100) null;`);
    this.addSql(`alter table "swarm_clusters" add column "lease_next_owner" varchar(100) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "docker_hosts" drop column "lease_next_owner";`);
    this.addSql(`alter table "swarm_clusters" drop column "lease_next_owner";`);
  }
}
