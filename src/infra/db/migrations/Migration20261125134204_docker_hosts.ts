import { Migration } from '@mikro-orm/migrations';

export class Migration20261125134204_docker_hosts extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "docker_hosts" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "name" varchar(100) not null, "api_endpoint" varchar(500) not null, "environment" varchar(50) not null, "tls_verify" boolean not null default false, "tls_credentials_sealed" text null, "tls_key_id" varchar(50) null, "connection_revision" int not null default 1, "lease_owner" varchar(100) null, "lease_expires_at" timestamptz(6) null, "sync_interval_seconds" int not null default 60, "status" text check ("status" in ('pending', 'connected', 'disconnected', 'error', 'maintenance')) not null default 'pending', "consecutive_failures" int not null default 0, "last_error" text null, "last_synced_at" timestamptz(6) null, "last_connected_at" timestamptz(6) null, "last_event_at" timestamptz(6) null, "engine_id" varchar(100) null, "docker_version" varchar(50) null, "operating_system" varchar(200) null, "os_type" varchar(50) null, "architecture" varchar(50) null, "kernel_version" varchar(200) null, "cpu_count" int null, "memory_bytes" bigint null, "storage_bytes" bigint null, "storage_driver" varchar(50) null, "container_count" int null, "running_container_count" int null, "image_count" int null, "swarm_node_id" varchar(100) null, "ping_latency_ms" double precision null, constraint "docker_hosts_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "docker_hosts_account_id_index" on "docker_hosts" ("account_id");`);
    this.addSql(`create index "docker_hosts_status_index" on "docker_hosts" ("status");`);
    this.addSql(`alter table "docker_hosts" add constraint "docker_hosts_account_id_name_unique" unique ("account_id", "name");`);

    this.addSql(
      `create table "docker_containers" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "host_id" uuid not null, "container_id" varchar(64) not null, "name" varchar(255) not null, "image" varchar(500) not null, "image_id" varchar(100) null, "state" varchar(20) not null, "status" varchar(200) null, "health" varchar(20) null, "command" text null, "labels" jsonb not null, "ports" jsonb not null, "docker_created_at" timestamptz(6) null, constraint "docker_containers_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "docker_containers_account_id_index" on "docker_containers" ("account_id");`);
    this.addSql(`create index "docker_containers_name_index" on "docker_containers" ("name");`);
    this.addSql(`create index "docker_containers_state_index" on "docker_containers" ("state");`);
    this.addSql(`alter table "docker_containers" add constraint "docker_containers_host_id_container_id_unique" unique ("host_id", "container_id");`);

    this.addSql(
      `create table "docker_images" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "host_id" uuid not null, "image_id" varchar(100) not null, "repo_tags" jsonb not null, "repo_digests" jsonb not null, "size_bytes" bigint not null default '0', "labels" jsonb not null, "docker_created_at" timestamptz(6) null, constraint "docker_images_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "docker_images_account_id_index" on "docker_images" ("account_id");`);
    this.addSql(`alter table "docker_images" add constraint "docker_images_host_id_image_id_unique" unique ("host_id", "image_id");`);

    this.addSql(
      `create table "docker_activities" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "user_id" uuid null, "action" varchar(100) not null, "target_type" varchar(50) not null, "target_id" varchar(255) null, "host_id" uuid null, "parameters" jsonb not null, "status" text check ("status" in ('pending', 'succeeded', 'failed')) not null default 'pending', "error" text null, "error_code" varchar(50) null, "docker_status" int null, "progress" jsonb null, "result" jsonb null, "started_at" timestamptz(6) not null, "finished_at" timestamptz(6) null, "duration_ms" int null, constraint "docker_activities_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "docker_activities_account_id_index" on "docker_activities" ("account_id");`);
    this.addSql(`create index "docker_activities_action_index" on "docker_activities" ("action");`);
    this.addSql(`create index "docker_activities_target_id_index" on "docker_activities" ("target_id");`);
    this.addSql(`create index "docker_activities_status_index" on "docker_activities" ("status");`);
    this.addSql(`create index "docker_activities_account_id_started_at_index" on "docker_activities" ("account_id", "started_at");`);

    this.addSql(
      `create table "docker_events" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "host_id" uuid not null, "type" varchar(30) not null, "action" varchar(100) not null, "actor_id" varchar(255) not null, "attributes" jsonb not null, "scope" varchar(10) null, "time" timestamptz(6) not null, "time_nano" bigint not null, "severity" text check ("severity" in ('info', 'warning', 'error')) not null default 'info', "source" text check ("source" in ('stream', 'resync')) not null default 'stream', "activity_id" uuid null, constraint "docker_events_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "docker_events_account_id_index" on "docker_events" ("account_id");`);
    this.addSql(`create index "docker_events_host_id_time_index" on "docker_events" ("host_id", "time");`);
    this.addSql(`alter table "docker_events" add constraint "docker_events_host_id_time_nano_type_action_actor_id_unique" unique ("host_id", "time_nano", "type", "action", "actor_id");`);

    this.addSql(`alter table "docker_hosts" add constraint "docker_hosts_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "docker_containers" add constraint "docker_containers_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "docker_containers" add constraint "docker_containers_host_id_foreign" foreign key ("host_id") references "docker_hosts" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "docker_images" add constraint "docker_images_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "docker_images" add constraint "docker_images_host_id_foreign" foreign key ("host_id") references "docker_hosts" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "docker_activities" add constraint "docker_activities_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "docker_activities" add constraint "docker_activities_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "docker_activities" add constraint "docker_activities_host_id_foreign" foreign key ("host_id") references "docker_hosts" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "docker_events" add constraint "docker_events_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "docker_events" add constraint "docker_events_host_id_foreign" foreign key ("host_id") references "docker_hosts" ("id") on update cascade on delete cascade;`);
    this.addSql(
      `alter table "docker_events" add constraint "docker_events_activity_id_foreign" foreign key ("activity_id") references "docker_activities" ("id") on update cascade on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "docker_containers" drop constraint "docker_containers_host_id_foreign";`);

    this.addSql(`alter table "docker_images" drop constraint "docker_images_host_id_foreign";`);

    this.addSql(`alter table "docker_activities" drop constraint "docker_activities_host_id_foreign";`);

    this.addSql(`alter table "docker_events" drop constraint "docker_events_host_id_foreign";`);

    this.addSql(`alter table "docker_events" drop constraint "docker_events_activity_id_foreign";`);

    this.addSql(`drop table if exists "docker_hosts" cascade;`);

    this.addSql(`drop table if exists "docker_containers" cascade;`);

    this.addSql(`drop table if exists "docker_images" cascade;`);

    this.addSql(`drop table if exists "docker_activities" cascade;`);

    this.addSql(`drop table if exists "docker_events" cascade;`);
  }
}
