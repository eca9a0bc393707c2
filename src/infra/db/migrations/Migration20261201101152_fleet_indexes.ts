import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 9, fleet queries: an index per nested connection's order (parent, order column, id), so
 * each parent's page in the batched lateral join (src/graphql/connection.ts) is an index range
 * scan of first+1 rows; the events' (parent, time) indexes gain the id they are ordered by too.
 */
export class Migration20261201101152_fleet_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "docker_containers_host_id_name_id_index" on "docker_containers" ("host_id", "name", "id");`);

    this.addSql(`create index "docker_images_host_id_created_at_id_index" on "docker_images" ("host_id", "created_at", "id");`);

    this.addSql(`create index "swarm_secret_references_cluster_id_kind_name_id_index" on "swarm_secret_references" ("cluster_id", "kind", "name", "id");`);

    this.addSql(`create index "swarm_nodes_cluster_id_hostname_id_index" on "swarm_nodes" ("cluster_id", "hostname", "id");`);

    this.addSql(`create index "swarm_services_cluster_id_name_id_index" on "swarm_services" ("cluster_id", "name", "id");`);

    this.addSql(`drop index "swarm_events_cluster_id_time_index";`);

    this.addSql(`create index "swarm_events_activity_id_time_id_index" on "swarm_events" ("activity_id", "time", "id");`);
    this.addSql(`create index "swarm_events_cluster_id_time_id_index" on "swarm_events" ("cluster_id", "time", "id");`);

    this.addSql(`drop index "docker_events_host_id_time_index";`);

    this.addSql(`create index "docker_events_activity_id_time_id_index" on "docker_events" ("activity_id", "time", "id");`);
    this.addSql(`create index "docker_events_host_id_time_id_index" on "docker_events" ("host_id", "time", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "docker_containers_host_id_name_id_index";`);

    this.addSql(`drop index "docker_events_activity_id_time_id_index";`);
    this.addSql(`drop index "docker_events_host_id_time_id_index";`);

    this.addSql(`CREATE INDEX docker_events_host_id_time_index ON public.docker_events USING btree (host_id, "time");`);

    this.addSql(`drop index "docker_images_host_id_created_at_id_index";`);

    this.addSql(`drop index "swarm_events_activity_id_time_id_index";`);
    this.addSql(`drop index "swarm_events_cluster_id_time_id_index";`);

    this.addSql(`CREATE INDEX swarm_events_cluster_id_time_index ON public.swarm_events USING btree (cluster_id, "time");`);

    this.addSql(`drop index "swarm_nodes_cluster_id_hostname_id_index";`);

    this.addSql(`drop index "swarm_secret_references_cluster_id_kind_name_id_index";`);

    this.addSql(`drop index "swarm_services_cluster_id_name_id_index";`);
  }
}
