import { Migration } from '@mikro-orm/migrations';

export class Migration20261201044651_engine_claims extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "engine_claims" ("kind" varchar(10) not null, "external_id" varchar(200) not null, "account_id" uuid not null, "created_at" timestamptz(6) not null, constraint "engine_claims_pkey" primary key ("kind", "external_id"));`,
    );
    this.addSql(`create index "engine_claims_account_id_index" on "engine_claims" ("account_id");`);

    this.addSql(
      `create table "engine_claim_holders" ("id" uuid not null, "claim_kind" varchar(10) not null, "claim_external_id" varchar(200) not null, "host_id" uuid null, "cluster_id" uuid null, constraint "engine_claim_holders_pkey" primary key ("id"), constraint engine_claim_holders_one_holder_check check (num_nonnulls(host_id, cluster_id) = 1));`,
    );
    this.addSql(`create index "engine_claim_holders_host_id_index" on "engine_claim_holders" ("host_id");`);
    this.addSql(`create index "engine_claim_holders_cluster_id_index" on "engine_claim_holders" ("cluster_id");`);
    this.addSql(`alter table "engine_claim_holders" add constraint "engine_claim_holders_claim_kind_claim_external_id_40175_unique" unique ("claim_kind", "claim_external_id", "cluster_id");`);
    this.addSql(`alter table "engine_claim_holders" add constraint "engine_claim_holders_claim_kind_claim_external_id_f2eda_unique" unique ("claim_kind", "claim_external_id", "host_id");`);

    this.addSql(`alter table "engine_claims" add constraint "engine_claims_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);

    this.addSql(
      `alter table "engine_claim_holders" add constraint "engine_claim_holders_claim_kind_claim_external_id_foreign" foreign key ("claim_kind", "claim_external_id") references "engine_claims" ("kind", "external_id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "engine_claim_holders" add constraint "engine_claim_holders_host_id_foreign" foreign key ("host_id") references "docker_hosts" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "engine_claim_holders" add constraint "engine_claim_holders_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "engine_claim_holders" drop constraint "engine_claim_holders_claim_kind_claim_external_id_foreign";`);

    this.addSql(`drop table if exists "engine_claims" cascade;`);

    this.addSql(`drop table if exists "engine_claim_holders" cascade;`);
  }
}
