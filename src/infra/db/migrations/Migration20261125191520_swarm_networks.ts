import { Migration } from '@mikro-orm/migrations';

export class Migration20261125191520_swarm_networks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "swarm_networks" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "cluster_id" uuid not null, "network_id" varchar(100) not null, "name" varchar(255) not null, "driver" varchar(50) not null, "scope" varchar(20) not null, "attachable" boolean not null default false, "ingress" boolean not null default false, "internal" boolean not null default false, "labels" jsonb not null, "stack" varchar(255) null, "subnets" jsonb not null, constraint "swarm_networks_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_networks_account_id_index" on "swarm_networks" ("account_id");`);
    this.addSql(`create index "swarm_networks_cluster_id_index" on "swarm_networks" ("cluster_id");`);
    this.addSql(`alter table "swarm_networks" add constraint "swarm_networks_cluster_id_network_id_unique" unique ("cluster_id", "network_id");`);

    this.addSql(`alter table "swarm_networks" add constraint "swarm_networks_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "swarm_networks" add constraint "swarm_networks_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "swarm_networks" cascade;`);
  }
}
