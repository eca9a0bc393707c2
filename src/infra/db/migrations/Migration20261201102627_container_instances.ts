import { Migration } from '@mikro-orm/migrations';

export class Migration20261201102627_container_instances extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "container_templates" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "name" varchar(100) not null, "version" int not null default 1, "image" varchar(500) not null, "command" jsonb null, "env" jsonb not null, "secret_env_sealed" text null, "secret_env_names" jsonb not null, "memory_mb" int not null, "cpu_millicores" int not null, "pids_limit" int not null, "timeout_seconds" int not null, "vault_policies" jsonb not null, "token_delivery" text check ("token_delivery" in ('tmpfs_file', 'env')) not null default 'tmpfs_file', "network" varchar(200) null, "labels" jsonb not null, "output_limit_bytes" int not null, "allowed_overrides" jsonb not null, "max_concurrent" int null, "max_memory_mb" int null, "max_cpu_millicores" int null, constraint "container_templates_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "container_templates_account_id_index" on "container_templates" ("account_id");`);
    this.addSql(`alter table "container_templates" add constraint "container_templates_account_id_name_unique" unique ("account_id", "name");`);

    this.addSql(
      `create table "container_instances" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "name" varchar(100) not null, "template_id" uuid null, "template_version" int null, "host_id" uuid null, "status" text check ("status" in ('pending', 'provisioning', 'running', 'completed', 'failed', 'timed_out', 'cancelled')) not null default 'pending', "spec" jsonb not null, "memory_mb" int not null, "cpu_millicores" int not null, "timeout_seconds" int not null, "keep_container" boolean not null default false, "transitions" jsonb not null, "provisioning_at" timestamptz(6) null, "started_at" timestamptz(6) null, "ended_at" timestamptz(6) null, "deadline" timestamptz(6) null, "ending" text check ("ending" in ('exited', 'timed_out', 'cancelled', 'host_lost', 'provisioning_failed', 'orphaned')) null, "heartbeat_at" timestamptz(6) null, "container_id" varchar(100) null, "exit_code" int null, "error" text null, "error_code" varchar(50) null, "stdout" text null, "stderr" text null, "stdout_dropped_bytes" double precision not null default 0, "stderr_dropped_bytes" double precision not null default 0, "memory_used_mb" double precision null, "memory_used_mb_last" double precision null, "cpu_used_millicores" double precision null, "storage_used_bytes" double precision null, "network_bytes_in" double precision null, "network_bytes_out" double precision null, "samples" int not null default 0, "sampled_at" timestamptz(6) null, "vault_token_accessor" varchar(200) null, "vault_token_issued_at" timestamptz(6) null, "vault_token_revoked_at" timestamptz(6) null, "vault_revoke_pending" boolean not null default false, "has_security_violations" boolean not null default false, "task_id" varchar(200) null, "callback_url" varchar(2000) null, "callback_status" varchar(20) null, constraint "container_instances_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "container_instances_account_id_index" on "container_instances" ("account_id");`);
    this.addSql(`create index "container_instances_container_id_index" on "container_instances" ("container_id");`);
    this.addSql(`create index "container_instances_vault_revoke_pending_index" on "container_instances" ("vault_revoke_pending");`);
    this.addSql(`create index "container_instances_account_id_created_at_index" on "container_instances" ("account_id", "created_at");`);
    this.addSql(`create index "container_instances_account_id_status_index" on "container_instances" ("account_id", "status");`);

    this.addSql(
      `create table "instance_callback_attempts" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "instance_id" uuid not null, "attempt" int not null, "at" timestamptz(6) not null, "status_code" int null, "error" varchar(500) null, "duration_ms" int not null, "delivered" boolean not null, constraint "instance_callback_attempts_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "instance_callback_attempts_account_id_index" on "instance_callback_attempts" ("account_id");`);
    this.addSql(`create index "instance_callback_attempts_instance_id_index" on "instance_callback_attempts" ("instance_id");`);

    this.addSql(
      `create table "instance_settings" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "max_concurrent" int null, "max_memory_mb" int null, "max_cpu_millicores" int null, "callback_secret_sealed" text null, constraint "instance_settings_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "instance_settings_account_id_index" on "instance_settings" ("account_id");`);
    this.addSql(`alter table "instance_settings" add constraint "instance_settings_account_id_unique" unique ("account_id");`);

    this.addSql(
      `create table "instance_security_violations" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "instance_id" uuid not null, "kind" text check ("kind" in ('policy_refused', 'oom_killed', 'timeout', 'killed_by_signal', 'token_valid_after_end')) not null, "details" jsonb not null, "detected_at" timestamptz(6) not null, constraint "instance_security_violations_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "instance_security_violations_account_id_index" on "instance_security_violations" ("account_id");`);
    this.addSql(`create index "instance_security_violations_instance_id_index" on "instance_security_violations" ("instance_id");`);
    this.addSql(`create index "instance_security_violations_account_id_detected_at_index" on "instance_security_violations" ("account_id", "detected_at");`);

    this.addSql(
      `alter table "container_templates" add constraint "container_templates_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "container_instances" add constraint "container_instances_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "container_instances" add constraint "container_instances_template_id_foreign" foreign key ("template_id") references "container_templates" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "container_instances" add constraint "container_instances_host_id_foreign" foreign key ("host_id") references "docker_hosts" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "instance_callback_attempts" add constraint "instance_callback_attempts_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "instance_callback_attempts" add constraint "instance_callback_attempts_instance_id_foreign" foreign key ("instance_id") references "container_instances" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "instance_settings" add constraint "instance_settings_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);

    this.addSql(
      `alter table "instance_security_violations" add constraint "instance_security_violations_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "instance_security_violations" add constraint "instance_security_violations_instance_id_foreign" foreign key ("instance_id") references "container_instances" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "container_instances" drop constraint "container_instances_template_id_foreign";`);

    this.addSql(`alter table "instance_callback_attempts" drop constraint "instance_callback_attempts_instance_id_foreign";`);

    this.addSql(`alter table "instance_security_violations" drop constraint "instance_security_violations_instance_id_foreign";`);

    this.addSql(`drop table if exists "container_templates" cascade;`);

    this.addSql(`drop table if exists "container_instances" cascade;`);

    this.addSql(`drop table if exists "instance_callback_attempts" cascade;`);

    this.addSql(`drop table if exists "instance_settings" cascade;`);

    this.addSql(`drop table if exists "instance_security_violations" cascade;`);
  }
}
