/** Pub/sub topics. Channels are `<topic>:<id>` where the id scopes delivery (host or account). */
export enum Topic {
  /** id: host uuid; payload: DockerEventPayload */
  DOCKER_EVENTS = 'dockerEvents',
  /** id: account uuid; payload: HostStatusPayload */
  HOST_STATUS = 'dockerHostStatus',
  /** id: account uuid; payload: ActivityPayload */
  ACTIVITIES = 'dockerActivities',
  /** id: cluster uuid; payload: SwarmEvent payload */
  SWARM_EVENTS = 'swarmEvents',
  /** id: account uuid; payload: ClusterStatusPayload (src/modules/swarm/status.ts) */
  SWARM_CLUSTER_STATUS = 'swarmClusterStatus',
  /** id: service uuid (SwarmService.id); payload: ServiceTasksPayload (src/modules/swarm/tasks.ts) */
  SWARM_SERVICE_TASKS = 'swarmServiceTasks',
  /** id: the leased table (docker_hosts, swarm_clusters); payload: { owner, released }: a stopping replica gave up its leases. */
  LEASES_RELEASED = 'leasesReleased',
}
