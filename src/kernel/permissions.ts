/** The permission catalogue: every permission a token may carry (the `permissions` claim); documented in the README. */
export const PERMISSIONS = {
  hostsManage: 'docker.hosts.manage',
  resourcesManage: 'docker.resources.manage',
  containersPrivileged: 'docker.containers.privileged',
  containersExec: 'docker.containers.exec',
  logsRead: 'docker.logs.read',
  clustersManage: 'swarm.clusters.manage',
  secretsManage: 'swarm.secrets.manage',
  stacksDeploy: 'swarm.stacks.deploy',
  templatesManage: 'containers.templates.manage',
  instancesRun: 'containers.instances.run',
} as const;

export type Permission = (typeof PERMISSIONS)[keyof typeof PERMISSIONS];

/** Every permission, for workers that act for the whole account (a system Scope). */
export const ALL_PERMISSIONS: readonly string[] = Object.values(PERMISSIONS);
