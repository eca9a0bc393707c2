/** Pub/sub topics. Channels are `<topic>:<id>` where the id scopes delivery (host or account). */
export enum Topic {
  /** id: host uuid; payload: DockerEventPayload */
  DOCKER_EVENTS = 'dockerEvents',
  /** id: account uuid; payload: HostStatusPayload */
  HOST_STATUS = 'dockerHostStatus',
  /** id: account uuid; payload: ActivityPayload */
  ACTIVITIES = 'dockerActivities',
}
