import { Migration } from '@mikro-orm/migrations';

export class Migration20261201142528_deployment_attempts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "swarm_deployments" add column "attempts" int not null default 0, add column "requeued_at" timestamptz(6) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "swarm_deployments" drop column "attempts", drop column "requeued_at";`);
  }
}
