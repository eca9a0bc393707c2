import { Migration } from '@mikro-orm/migrations';

export class Migration20261125192103_swarm_event_activity extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "swarm_events" add column "activity_id" uuid null;`);
    this.addSql(`alter table "swarm_events" add constraint "swarm_events_activity_id_foreign" foreign key ("activity_id") references "docker_activities" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "swarm_events" drop constraint "swarm_events_activity_id_foreign";`);

    this.addSql(`alter table "swarm_events" drop column "activity_id";`);
  }
}
