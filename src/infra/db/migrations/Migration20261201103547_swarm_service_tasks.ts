import { Migration } from '@mikro-orm/migrations';

export class Migration20261201103547_swarm_service_tasks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "swarm_services" add column "tasks_version" int null, add column "tasks_checked_at" timestamptz(6) null, add column "failing_tasks" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "swarm_services" drop column "tasks_version", drop column "tasks_checked_at", drop column "failing_tasks";`);
  }
}
