import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 9, resumable feeds: every stored event gets a gap-free sequence number per host (per
 * cluster), counted on the owner row (`event_seq`); `source` may be `gap`. Existing events are
 * numbered in the order they happened.
 */
export class Migration20261201100324_event_sequence extends Migration {
  override async up(): Promise<void> {
    for (const [events, owners, owner] of [
      ['docker_events', 'docker_hosts', 'host_id'],
      ['swarm_events', 'swarm_clusters', 'cluster_id'],
    ]) {
      this.addSql(`alter table "${events}" drop constraint if exists "${events}_source_check";`);
      this.addSql(`alter table "${events}" add constraint "${events}_source_check" check("source" in ('stream', 'resync', 'gap'));`);
      this.addSql(`alter table "${owners}" add column "event_seq" bigint not null default 0;`);
      this.addSql(`alter table "${events}" add column "seq" bigint null;`);
      this.addSql(
        `update "${events}" e set "seq" = r.n from (select "id", row_number() over (partition by "${owner}" order by "time", "time_nano", "created_at", "id") as n from "${events}") r where r."id" = e."id";`,
      );
      this.addSql(`alter table "${events}" alter column "seq" set not null;`);
      this.addSql(`update "${owners}" o set "event_seq" = coalesce((select max(e."seq") from "${events}" e where e."${owner}" = o."id"), 0);`);
      this.addSql(`alter table "${events}" add constraint "${events}_${owner}_seq_unique" unique ("${owner}", "seq");`);
    }
  }

  override async down(): Promise<void> {
    for (const [events, owners, owner] of [
      ['docker_events', 'docker_hosts', 'host_id'],
      ['swarm_events', 'swarm_clusters', 'cluster_id'],
    ]) {
      this.addSql(`alter table "${events}" drop constraint "${events}_${owner}_seq_unique";`);
      this.addSql(`alter table "${events}" drop column "seq";`);
      this.addSql(`alter table "${owners}" drop column "event_seq";`);
      this.addSql(`delete from "${events}" where "source" = 'gap';`);
      this.addSql(`alter table "${events}" drop constraint if exists "${events}_source_check";`);
      this.addSql(`alter table "${events}" add constraint "${events}_source_check" check("source" in ('stream', 'resync'));`);
    }
  }
}
