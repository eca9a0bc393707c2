import { Migration } from '@mikro-orm/migrations';

export class Migration20261125121731_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "accounts" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "name" varchar(200) not null, constraint "accounts_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "accounts" add constraint "accounts_name_unique" unique ("name");`);

    this.addSql(
      `create table "users" ("id" uuid not null, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "account_id" uuid not null, "subject" varchar(300) not null, "last_seen_at" timestamptz(6) not null, constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "users_account_id_index" on "users" ("account_id");`);
    this.addSql(`alter table "users" add constraint "users_account_id_subject_unique" unique ("account_id", "subject");`);

    this.addSql(`alter table "users" add constraint "users_account_id_foreign" foreign key ("account_id") references "accounts" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" drop constraint "users_account_id_foreign";`);

    this.addSql(`drop table if exists "accounts" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);
  }
}
