import { Migration } from '@mikro-orm/migrations';

/**
 * Container instances hardening (written by hand, see the issue 11 review): the wrap-up claim
 * (one party ends an instance; a claim with an expiry the reaper may take over), the sealed
 * secret environment of the template version an instance started from, the account's quota
 * refusal counter (refusals are counted, not stored one row each), and an index for the
 * reaper's scans of active instances.
 */
export class Migration20261201150000_instances_hardening extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "container_instances" add column "wrap_up_owner" varchar(64) null, add column "wrap_up_until" timestamptz(6) null, add column "secret_env_sealed" text null;`);
    this.addSql(`alter table "instance_settings" add column "quota_refusals" int not null default 0, add column "last_quota_refusal_at" timestamptz(6) null;`);
    this.addSql(`create index "container_instances_active_heartbeat_index" on "container_instances" ("heartbeat_at") where "status" in ('pending', 'provisioning', 'running');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "container_instances_active_heartbeat_index";`);
    this.addSql(`alter table "instance_settings" drop column "quota_refusals", drop column "last_quota_refusal_at";`);
    this.addSql(`alter table "container_instances" drop column "wrap_up_owner", drop column "wrap_up_until", drop column "secret_env_sealed";`);
  }
}
