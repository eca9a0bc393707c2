import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 9, takeover in seconds: each replica running a leased fleet (src/platform/leasing) announces
 * itself here, per fleet (the leased table's name), renewed with its leases and expiring with them,
 * so every replica knows how many share the fleet and claims only its fair share of the rows.
 * Written and read with plain SQL by LeasedFleet (no entity); expired rows are deleted by the claim
 * statement a minute after they expired, so the table holds about one row per live replica and fleet.
 */
export class Migration20261201150500_fleet_replicas extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "fleet_replicas" ("fleet" varchar(64) not null, "owner" varchar(255) not null, "seen_at" timestamptz not null, "expires_at" timestamptz not null, constraint "fleet_replicas_pkey" primary key ("fleet", "owner"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "fleet_replicas" cascade;`);
  }
}
