import { Migration } from '@mikro-orm/migrations';

export class Migration20261125184227_swarm extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "swarm_clusters" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "name" varchar(100) not null, "manager_endpoint" varchar(500) not null, "tls_verify" boolean not null default false, "tls_credentials_sealed" text null, "tls_key_id" varchar(50) null, "connection_revision" int not null default 1, "lease_owner" varchar(100) null, "lease_expires_at" timestamptz(6) null, "sync_interval_seconds" int not null default 60, "status" text check ("status" in ('pending', 'connected', 'disconnected', 'error', 'maintenance')) not null default 'pending', "consecutive_failures" int not null default 0, "last_error" text null, "last_synced_at" timestamptz(6) null, "last_connected_at" timestamptz(6) null, "last_event_at" timestamptz(6) null, "swarm_id" varchar(100) null, "quorum" boolean null, "spec" jsonb null, "spec_version" int null, "swarm_created_at" timestamptz(6) null, constraint "swarm_clusters_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_clusters_account_id_index" on "swarm_clusters" ("account_id");`);
    this.addSql(`create index "swarm_clusters_status_index" on "swarm_clusters" ("status");`);
    this.addSql(`alter table "swarm_clusters" add constraint "swarm_clusters_account_id_name_unique" unique ("account_id", "name");`);

    this.addSql(
      `create table "swarm_secret_references" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "cluster_id" uuid not null, "kind" text check ("kind" in ('secret', 'config')) not null, "docker_id" varchar(100) not null, "name" varchar(255) not null, "labels" jsonb not null, "version" int not null, "family" varchar(255) null, "generation" int null, "docker_created_at" timestamptz(6) null, "docker_updated_at" timestamptz(6) null, constraint "swarm_secret_references_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_secret_references_account_id_index" on "swarm_secret_references" ("account_id");`);
    this.addSql(`create index "swarm_secret_references_cluster_id_index" on "swarm_secret_references" ("cluster_id");`);
    this.addSql(`alter table "swarm_secret_references" add constraint "swarm_secret_references_cluster_id_kind_docker_id_unique" unique ("cluster_id", "kind", "docker_id");`);

    this.addSql(
      `create table "swarm_events" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "cluster_id" uuid not null, "type" varchar(30) not null, "action" varchar(100) not null, "actor_id" varchar(255) not null, "attributes" jsonb not null, "time" timestamptz(6) not null, "time_nano" bigint not null, "severity" text check ("severity" in ('info', 'warning', 'error')) not null default 'info', "source" text check ("source" in ('stream', 'resync')) not null default 'stream', constraint "swarm_events_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_events_account_id_index" on "swarm_events" ("account_id");`);
    this.addSql(`create index "swarm_events_cluster_id_time_index" on "swarm_events" ("cluster_id", "time");`);
    this.addSql(`alter table "swarm_events" add constraint "swarm_events_cluster_id_time_nano_type_action_actor_id_unique" unique ("cluster_id", "time_nano", "type", "action", "actor_id");`);

    this.addSql(
      `create table "swarm_nodes" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "cluster_id" uuid not null, "node_id" varchar(100) not null, "hostname" varchar(255) not null, "role" text check ("role" in ('manager', 'worker')) not null, "availability" text check ("availability" in ('active', 'pause', 'drain')) not null, "state" varchar(20) not null, "message" varchar(500) null, "addr" varchar(100) null, "leader" boolean not null default false, "manager_reachability" varchar(20) null, "manager_addr" varchar(100) null, "engine_version" varchar(50) null, "platform" varchar(100) null, "nano_cpus" bigint null, "memory_bytes" bigint null, "labels" jsonb not null, "version" int not null, "host_id" uuid null, constraint "swarm_nodes_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_nodes_account_id_index" on "swarm_nodes" ("account_id");`);
    this.addSql(`create index "swarm_nodes_cluster_id_index" on "swarm_nodes" ("cluster_id");`);
    this.addSql(`alter table "swarm_nodes" add constraint "swarm_nodes_cluster_id_node_id_unique" unique ("cluster_id", "node_id");`);

    this.addSql(
      `create table "swarm_services" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "cluster_id" uuid not null, "service_id" varchar(100) not null, "name" varchar(255) not null, "image" varchar(500) not null, "mode" text check ("mode" in ('replicated', 'global')) not null, "replicas" int null, "desired_tasks" int null, "running_tasks" int null, "stack" varchar(255) null, "labels" jsonb not null, "spec" jsonb not null, "previous_spec" jsonb null, "update_status" jsonb null, "update_state" varchar(30) null, "version" int not null, "docker_updated_at" timestamptz(6) null, constraint "swarm_services_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "swarm_services_account_id_index" on "swarm_services" ("account_id");`);
    this.addSql(`create index "swarm_services_cluster_id_index" on "swarm_services" ("cluster_id");`);
    this.addSql(`create index "swarm_services_cluster_id_stack_index" on "swarm_services" ("cluster_id", "stack");`);
    this.addSql(`alter table "swarm_services" add constraint "swarm_services_cluster_id_service_id_unique" unique ("cluster_id", "service_id");`);

    this.addSql(`alter table "swarm_clusters" add constraint "swarm_clusters_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);

    this.addSql(
      `alter table "swarm_secret_references" add constraint "swarm_secret_references_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "swarm_secret_references" add constraint "swarm_secret_references_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "swarm_events" add constraint "swarm_events_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "swarm_events" add constraint "swarm_events_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "swarm_nodes" add constraint "swarm_nodes_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "swarm_nodes" add constraint "swarm_nodes_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "swarm_nodes" add constraint "swarm_nodes_host_id_foreign" foreign key ("host_id") references "docker_hosts" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "swarm_services" add constraint "swarm_services_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "swarm_services" add constraint "swarm_services_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "docker_activities" add column "cluster_id" uuid null;`);
    this.addSql(
      `alter table "docker_activities" add constraint "docker_activities_cluster_id_foreign" foreign key ("cluster_id") references "swarm_clusters" ("id") on update cascade on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "swarm_secret_references" drop constraint "swarm_secret_references_cluster_id_foreign";`);

    this.addSql(`alter table "swarm_events" drop constraint "swarm_events_cluster_id_foreign";`);

    this.addSql(`alter table "swarm_nodes" drop constraint "swarm_nodes_cluster_id_foreign";`);

    this.addSql(`alter table "swarm_services" drop constraint "swarm_services_cluster_id_foreign";`);

    this.addSql(`alter table "docker_activities" drop constraint "docker_activities_cluster_id_foreign";`);

    this.addSql(`drop table if exists "swarm_clusters" cascade;`);

    this.addSql(`drop table if exists "swarm_secret_references" cascade;`);

    this.addSql(`drop table if exists "swarm_events" cascade;`);

    this.addSql(`drop table if exists "swarm_nodes" cascade;`);

    this.addSql(`drop table if exists "swarm_services" cascade;`);

    this.addSql(`alter table "docker_activities" drop column "cluster_id";`);
  }
}
