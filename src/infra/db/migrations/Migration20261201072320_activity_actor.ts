import { Migration } from '@mikro-orm/migrations';

export class Migration20261201072320_activity_actor extends Migration {
  override async up(): Promise<void> {
    // existing rows were all asked by users: their actor is the user's token subject
    this.addSql(`alter table "docker_activities" add column "actor" varchar(255) null;`);
    this.addSql(`update "docker_activities" a set "actor" = 'user:' || coalesce((select u."subject" from "users" u where u."id" = a."user_id"), 'unknown');`);
    this.addSql(`alter table "docker_activities" alter column "actor" set not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "docker_activities" drop column "actor";`);
  }
}
