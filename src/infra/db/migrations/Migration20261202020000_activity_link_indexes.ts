import { Migration } from '@mikro-orm/migrations';

/**
 * The activity link runs for every stored batch of events: per event, the activities of its host
 * (or cluster) whose window holds it. Without an index on the subject it scanned the whole audit
 * log: 195 ms per event with 300,000 activities, and growing with the log. These indexes find the
 * activities still running or finished within seconds of the event (0.4 ms).
 */
export class Migration20261202020000_activity_link_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "docker_activities_host_id_finished_at_index" on "docker_activities" ("host_id", (coalesce("finished_at", 'infinity'::timestamptz)));`);
    this.addSql(`create index "docker_activities_cluster_id_finished_at_index" on "docker_activities" ("cluster_id", (coalesce("finished_at", 'infinity'::timestamptz)));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "docker_activities_host_id_finished_at_index";`);
    this.addSql(`drop index "docker_activities_cluster_id_finished_at_index";`);
  }
}
