import { Migration } from '@mikro-orm/migrations';

export class Migration20261201132201_stacks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "swarm_stacks" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "cluster_id" uuid not null, "name" varchar(100) not null, "status" text check ("status" in ('deploying', 'converged', 'degraded', 'failed', 'rolling_back', 'removed')) not null default 'converged', "status_message" text null, "managed" boolean not null default false, "last_revision" int not null default 0, "current_deployment_id" uuid null, constraint "swarm_stacks_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_stacks_account_id_index" on "swarm_stacks" ("account_id");`);
    this.addSql(`create index "swarm_stacks_cluster_id_index" on "swarm_stacks" ("cluster_id");`);
    this.addSql(`alter table "swarm_stacks" add constraint "swarm_stacks_cluster_id_name_unique" unique ("cluster_id", "name");`);

    this.addSql(
      `create table "swarm_deployments" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "stack_id" uuid not null, "cluster_id" uuid not null, "revision" int not null, "kind" text check ("kind" in ('deploy', 'redeploy', 'rollback')) not null, "source_revision" int null, "status" text check ("status" in ('pending', 'in_progress', 'succeeded', 'failed', 'cancelled', 'rolled_back')) not null default 'pending', "strategy" varchar(32) not null default 'ROLLING', "compose" text not null, "variable_names" jsonb not null, "file_names" jsonb not null, "sealed_inputs" text not null, "specs" jsonb not null, "images" jsonb not null, "diff" jsonb null, "steps" jsonb not null, "warnings" jsonb not null, "prune" boolean not null default false, "timeout_seconds" int null, "deadline_at" timestamptz(6) null, "idempotency_key" varchar(200) null, "actor" varchar(300) not null, "error" text null, "started_at" timestamptz(6) null, "finished_at" timestamptz(6) null, "activity_id" uuid null, "worker_owner" varchar(200) null, "worker_expires_at" timestamptz(6) null, constraint "swarm_deployments_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_deployments_account_id_index" on "swarm_deployments" ("account_id");`);
    this.addSql(`create index "swarm_deployments_cluster_id_index" on "swarm_deployments" ("cluster_id");`);
    this.addSql(`create index "swarm_deployments_stack_id_created_at_index" on "swarm_deployments" ("stack_id", "created_at");`);
    this.addSql(`create unique index swarm_deployments_one_active on swarm_deployments (stack_id) where status in ('pending', 'in_progress');`);
    this.addSql(`alter table "swarm_deployments" add constraint "swarm_deployments_account_id_idempotency_key_unique" unique ("account_id", "idempotency_key");`);
    this.addSql(`alter table "swarm_deployments" add constraint "swarm_deployments_stack_id_revision_unique" unique ("stack_id", "revision");`);

    this.addSql(`alter table "swarm_stacks" add constraint "swarm_stacks_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "swarm_stacks" add constraint "swarm_stacks_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "swarm_deployments" add constraint "swarm_deployments_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "swarm_deployments" add constraint "swarm_deployments_stack_id_foreign" foreign key ("stack_id") references "swarm_stacks" ("id") on update cascade on delete cascade;`);
    this.addSql(
      `alter table "swarm_deployments" add constraint "swarm_deployments_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "swarm_deployments" drop constraint "swarm_deployments_stack_id_foreign";`);

    this.addSql(`drop table if exists "swarm_stacks" cascade;`);

    this.addSql(`drop table if exists "swarm_deployments" cascade;`);
  }
}
