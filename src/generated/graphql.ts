/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar.This scalar is serialized to a string in ISO 8601 format and parsed from a string in ISO 8601 format. */
  DateTimeISO: { input: string; output: string; }
  /** The `JSONObject` scalar type represents JSON objects as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSONObject: { input: unknown; output: unknown; }
};

/** A tenant: every host, cluster and activity belongs to one account. */
export type Account = Node & {
  __typename?: 'Account';
  createdAt: Scalars['DateTimeISO']['output'];
  /** Opaque global id */
  id: Scalars['ID']['output'];
  /** The account key carried in tokens (`account` claim). */
  name: Scalars['String']['output'];
  updatedAt: Scalars['DateTimeISO']['output'];
};

export type ActivityFilter = {
  /** Action prefix, e.g. "container." or "image.pull". */
  action?: InputMaybe<Scalars['String']['input']>;
  hostId?: InputMaybe<Scalars['ID']['input']>;
  since?: InputMaybe<Scalars['DateTimeISO']['input']>;
  status?: InputMaybe<Array<ActivityStatus>>;
  targetId?: InputMaybe<Scalars['String']['input']>;
};

export type ActivityStatus =
  | 'FAILED'
  | 'PENDING'
  | 'SUCCEEDED';

export type ContainerFilter = {
  /** "key" (label present) or "key=value". */
  label?: InputMaybe<Scalars['String']['input']>;
  /** Substring of the container name (case-insensitive). */
  name?: InputMaybe<Scalars['String']['input']>;
  /** created, running, paused, restarting, removing, exited, dead */
  state?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** An audited operation (every mutation that touches Docker writes one). */
export type DockerActivity = Node & {
  __typename?: 'DockerActivity';
  /** e.g. container.start, image.pull, host.register */
  action: Scalars['String']['output'];
  createdAt: Scalars['DateTimeISO']['output'];
  /** Docker's HTTP status when it refused. */
  dockerStatus?: Maybe<Scalars['Int']['output']>;
  durationMs?: Maybe<Scalars['Int']['output']>;
  /** Docker's (or our) error text when failed. */
  error?: Maybe<Scalars['String']['output']>;
  /** Error code (DOCKER_ERROR, DOCKER_UNREACHABLE, …) when failed. */
  errorCode?: Maybe<Scalars['String']['output']>;
  /** Docker events linked to this activity (same actor, within its time window). */
  events: DockerEventConnection;
  finishedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  host?: Maybe<DockerHost>;
  /** Opaque global id */
  id: Scalars['ID']['output'];
  /** Input of the operation; secrets are replaced by "[redacted]". */
  parameters: Scalars['JSONObject']['output'];
  /** Latest progress (pull/push/build): { status, current, total, … }. */
  progress?: Maybe<Scalars['JSONObject']['output']>;
  /** Result summary (ids created, exit code, …). */
  result?: Maybe<Scalars['JSONObject']['output']>;
  startedAt: Scalars['DateTimeISO']['output'];
  status: ActivityStatus;
  /** Docker id or name of the target, when known. */
  targetId?: Maybe<Scalars['String']['output']>;
  /** container, image, network, volume, host, … */
  targetType: Scalars['String']['output'];
  updatedAt: Scalars['DateTimeISO']['output'];
  user?: Maybe<User>;
};


/** An audited operation (every mutation that touches Docker writes one). */
export type DockerActivityEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of DockerActivity items. */
export type DockerActivityConnection = {
  __typename?: 'DockerActivityConnection';
  edges: Array<DockerActivityEdge>;
  /** The items of this page (shortcut for edges.node). */
  nodes: Array<DockerActivity>;
  pageInfo: PageInfo;
  /** Items matching the filter, over all pages. */
  totalCount: Scalars['Int']['output'];
};

export type DockerActivityEdge = {
  __typename?: 'DockerActivityEdge';
  cursor: Scalars['String']['output'];
  node: DockerActivity;
};

/** A container on a Docker host, in any state. */
export type DockerContainer = Node & {
  __typename?: 'DockerContainer';
  command?: Maybe<Scalars['String']['output']>;
  /** Docker's container id. */
  containerId: Scalars['String']['output'];
  createdAt: Scalars['DateTimeISO']['output'];
  /** When Docker created the container. */
  dockerCreatedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** healthy, unhealthy, starting, or null without a healthcheck */
  health?: Maybe<Scalars['String']['output']>;
  host?: Maybe<DockerHost>;
  /** Opaque global id */
  id: Scalars['ID']['output'];
  image: Scalars['String']['output'];
  imageId?: Maybe<Scalars['String']['output']>;
  labels: Scalars['JSONObject']['output'];
  name: Scalars['String']['output'];
  /** Port mappings as Docker lists them. */
  ports: Array<Scalars['JSONObject']['output']>;
  /** created, running, paused, restarting, removing, exited or dead */
  state: Scalars['String']['output'];
  /** Docker's human status, e.g. "Up 3 minutes (healthy)". */
  status?: Maybe<Scalars['String']['output']>;
  updatedAt: Scalars['DateTimeISO']['output'];
};

/** A page of DockerContainer items. */
export type DockerContainerConnection = {
  __typename?: 'DockerContainerConnection';
  edges: Array<DockerContainerEdge>;
  /** The items of this page (shortcut for edges.node). */
  nodes: Array<DockerContainer>;
  pageInfo: PageInfo;
  /** Items matching the filter, over all pages. */
  totalCount: Scalars['Int']['output'];
};

export type DockerContainerEdge = {
  __typename?: 'DockerContainerEdge';
  cursor: Scalars['String']['output'];
  node: DockerContainer;
};

/** An event from a Docker daemon (container, image, network, volume, …). */
export type DockerEvent = Node & {
  __typename?: 'DockerEvent';
  /** create, start, die, destroy, pull, … (resync events: the action that explains the change) */
  action: Scalars['String']['output'];
  /** The activity that caused this event, when one did. */
  activity?: Maybe<DockerActivity>;
  actorId: Scalars['String']['output'];
  attributes: Scalars['JSONObject']['output'];
  createdAt: Scalars['DateTimeISO']['output'];
  host?: Maybe<DockerHost>;
  /** Opaque global id */
  id: Scalars['ID']['output'];
  /** local or swarm */
  scope?: Maybe<Scalars['String']['output']>;
  severity: EventSeverity;
  source: EventSource;
  time: Scalars['DateTimeISO']['output'];
  /** Docker's timeNano, exact (nanoseconds since the epoch, decimal string). */
  timeNano: Scalars['String']['output'];
  /** container, image, network, volume, daemon, plugin, … */
  type: Scalars['String']['output'];
  updatedAt: Scalars['DateTimeISO']['output'];
};

/** A page of DockerEvent items. */
export type DockerEventConnection = {
  __typename?: 'DockerEventConnection';
  edges: Array<DockerEventEdge>;
  /** The items of this page (shortcut for edges.node). */
  nodes: Array<DockerEvent>;
  pageInfo: PageInfo;
  /** Items matching the filter, over all pages. */
  totalCount: Scalars['Int']['output'];
};

export type DockerEventEdge = {
  __typename?: 'DockerEventEdge';
  cursor: Scalars['String']['output'];
  node: DockerEvent;
};

export type DockerEventFilter = {
  /** create, start, die, destroy, … */
  actions?: InputMaybe<Array<Scalars['String']['input']>>;
  actorId?: InputMaybe<Scalars['String']['input']>;
  severities?: InputMaybe<Array<EventSeverity>>;
  since?: InputMaybe<Scalars['DateTimeISO']['input']>;
  /** container, image, network, volume, … */
  types?: InputMaybe<Array<Scalars['String']['input']>>;
  until?: InputMaybe<Scalars['DateTimeISO']['input']>;
};

/** A Docker engine registered with fleetgraph. */
export type DockerHost = Node & {
  __typename?: 'DockerHost';
  /** unix:///path, tcp://host:port, http(s)://host:port */
  apiEndpoint: Scalars['String']['output'];
  architecture?: Maybe<Scalars['String']['output']>;
  consecutiveFailures: Scalars['Int']['output'];
  containerCount?: Maybe<Scalars['Int']['output']>;
  /** Containers of this host in all states. */
  containers: DockerContainerConnection;
  cpuCount?: Maybe<Scalars['Int']['output']>;
  createdAt: Scalars['DateTimeISO']['output'];
  dockerVersion?: Maybe<Scalars['String']['output']>;
  engineId?: Maybe<Scalars['String']['output']>;
  /** staging, production, development, or a custom label */
  environment: Scalars['String']['output'];
  /** Stored events of this host, newest first. */
  events: DockerEventConnection;
  /** Whether TLS credentials are stored (they are never returned). */
  hasTlsCredentials: Scalars['Boolean']['output'];
  /** Daemon latency, container health counts and resources from the last sync. */
  health: HostHealth;
  /** Opaque global id */
  id: Scalars['ID']['output'];
  imageCount?: Maybe<Scalars['Int']['output']>;
  images: DockerImageConnection;
  kernelVersion?: Maybe<Scalars['String']['output']>;
  lastConnectedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  lastError?: Maybe<Scalars['String']['output']>;
  /** Time of the last event read from the daemon (stream resumes from here). */
  lastEventAt?: Maybe<Scalars['DateTimeISO']['output']>;
  lastSyncedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Bytes, as a decimal string. */
  memoryBytes?: Maybe<Scalars['String']['output']>;
  name: Scalars['String']['output'];
  operatingSystem?: Maybe<Scalars['String']['output']>;
  osType?: Maybe<Scalars['String']['output']>;
  runningContainerCount?: Maybe<Scalars['Int']['output']>;
  status: HostStatus;
  /** Bytes used by images, as a decimal string. */
  storageBytes?: Maybe<Scalars['String']['output']>;
  storageDriver?: Maybe<Scalars['String']['output']>;
  /** Swarm node id of this engine, when it is part of a swarm. */
  swarmNodeId?: Maybe<Scalars['String']['output']>;
  syncIntervalSeconds: Scalars['Int']['output'];
  /** Verify the daemon's certificate against the given CA and present a client certificate. */
  tlsVerify: Scalars['Boolean']['output'];
  updatedAt: Scalars['DateTimeISO']['output'];
};


/** A Docker engine registered with fleetgraph. */
export type DockerHostContainersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ContainerFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** A Docker engine registered with fleetgraph. */
export type DockerHostEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<DockerEventFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** A Docker engine registered with fleetgraph. */
export type DockerHostImagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ImageFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of DockerHost items. */
export type DockerHostConnection = {
  __typename?: 'DockerHostConnection';
  edges: Array<DockerHostEdge>;
  /** The items of this page (shortcut for edges.node). */
  nodes: Array<DockerHost>;
  pageInfo: PageInfo;
  /** Items matching the filter, over all pages. */
  totalCount: Scalars['Int']['output'];
};

export type DockerHostEdge = {
  __typename?: 'DockerHostEdge';
  cursor: Scalars['String']['output'];
  node: DockerHost;
};

export type DockerHostIdInput = {
  id: Scalars['ID']['input'];
};

export type DockerHostPayload = {
  __typename?: 'DockerHostPayload';
  activity: DockerActivity;
  host: DockerHost;
};

/** A status transition of a host. */
export type DockerHostStatusChange = {
  __typename?: 'DockerHostStatusChange';
  changedAt: Scalars['DateTimeISO']['output'];
  consecutiveFailures: Scalars['Int']['output'];
  hostId: Scalars['ID']['output'];
  lastError?: Maybe<Scalars['String']['output']>;
  name: Scalars['String']['output'];
  previousStatus: HostStatus;
  status: HostStatus;
};

/** An image stored on a Docker host. */
export type DockerImage = Node & {
  __typename?: 'DockerImage';
  createdAt: Scalars['DateTimeISO']['output'];
  dockerCreatedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  host?: Maybe<DockerHost>;
  /** Opaque global id */
  id: Scalars['ID']['output'];
  /** sha256:… image id */
  imageId: Scalars['String']['output'];
  labels: Scalars['JSONObject']['output'];
  repoDigests: Array<Scalars['String']['output']>;
  repoTags: Array<Scalars['String']['output']>;
  /** Bytes, as a decimal string. */
  sizeBytes: Scalars['String']['output'];
  updatedAt: Scalars['DateTimeISO']['output'];
};

/** A page of DockerImage items. */
export type DockerImageConnection = {
  __typename?: 'DockerImageConnection';
  edges: Array<DockerImageEdge>;
  /** The items of this page (shortcut for edges.node). */
  nodes: Array<DockerImage>;
  pageInfo: PageInfo;
  /** Items matching the filter, over all pages. */
  totalCount: Scalars['Int']['output'];
};

export type DockerImageEdge = {
  __typename?: 'DockerImageEdge';
  cursor: Scalars['String']['output'];
  node: DockerImage;
};

export type EventSeverity =
  | 'ERROR'
  | 'INFO'
  | 'WARNING';

/** STREAM: read from the daemon's /events. RESYNC: found by the list-and-diff after a reconnect (Docker had dropped it or was restarted). */
export type EventSource =
  | 'RESYNC'
  | 'STREAM';

/** Health of a host from its last check: daemon latency, container health, resources. */
export type HostHealth = {
  __typename?: 'HostHealth';
  cpuCount?: Maybe<Scalars['Int']['output']>;
  healthy: Scalars['Int']['output'];
  lastSyncedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  memoryBytes?: Maybe<Scalars['String']['output']>;
  /** Containers without a healthcheck. */
  none: Scalars['Int']['output'];
  /** Daemon /_ping round trip at the last sync (ms). */
  pingLatencyMs?: Maybe<Scalars['Float']['output']>;
  running: Scalars['Int']['output'];
  starting: Scalars['Int']['output'];
  status: HostStatus;
  /** Bytes used by images. */
  storageBytes?: Maybe<Scalars['String']['output']>;
  total: Scalars['Int']['output'];
  unhealthy: Scalars['Int']['output'];
};

/** Connection state of a Docker host (or a Swarm cluster manager endpoint). */
export type HostStatus =
  /** Ping and info succeeded; syncing and streaming events. */
  | 'CONNECTED'
  /** The connection dropped; retrying. */
  | 'DISCONNECTED'
  /** 5 consecutive failures; still retried at the sync interval. recoverDockerHost resets the count. */
  | 'ERROR'
  /** Taken offline by an operator: no syncing, no event stream. */
  | 'MAINTENANCE'
  /** Registered, not yet connected. */
  | 'PENDING';

export type ImageFilter = {
  /** Substring of a repo tag. */
  tag?: InputMaybe<Scalars['String']['input']>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Resets the failure count; a host in error goes back to pending and reconnects. */
  recoverDockerHost: DockerHostPayload;
  /** Registers a Docker engine; it connects and syncs in the background (watch dockerHostStatusChanged). */
  registerDockerHost: DockerHostPayload;
  /** Stops the host's workers and deletes it with its stored inventory and events (activities are kept). */
  removeDockerHost: RemoveDockerHostPayload;
  setDockerHostMaintenance: DockerHostPayload;
  /** Full inventory sync now (containers, images, system info). */
  syncDockerHost: SyncDockerHostPayload;
  updateDockerHost: DockerHostPayload;
};


export type MutationRecoverDockerHostArgs = {
  input: DockerHostIdInput;
};


export type MutationRegisterDockerHostArgs = {
  input: RegisterDockerHostInput;
};


export type MutationRemoveDockerHostArgs = {
  input: DockerHostIdInput;
};


export type MutationSetDockerHostMaintenanceArgs = {
  input: SetDockerHostMaintenanceInput;
};


export type MutationSyncDockerHostArgs = {
  input: DockerHostIdInput;
};


export type MutationUpdateDockerHostArgs = {
  input: UpdateDockerHostInput;
};

/** An object with a globally unique, opaque id. Fetch any of them with `node(id:)`. */
export type Node = {
  createdAt: Scalars['DateTimeISO']['output'];
  /** Opaque global id */
  id: Scalars['ID']['output'];
  updatedAt: Scalars['DateTimeISO']['output'];
};

/** Cursor pagination state (Relay connection spec). */
export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
  hasPreviousPage: Scalars['Boolean']['output'];
  startCursor?: Maybe<Scalars['String']['output']>;
};

export type Query = {
  __typename?: 'Query';
  /** The audit log: every mutation, newest first. */
  activities: DockerActivityConnection;
  /** Containers across all hosts of your account (from the last sync and live events). */
  containers: DockerContainerConnection;
  /** Stored Docker events across your hosts, newest first. */
  dockerEvents: DockerEventConnection;
  /** One host by id (NOT_FOUND when it is not yours). */
  dockerHost: DockerHost;
  /** Docker hosts of your account, by name. */
  dockerHosts: DockerHostConnection;
  /** Images across all hosts of your account. */
  images: DockerImageConnection;
  /** Fetches any object by its global id; null when it does not exist or is not yours. */
  node?: Maybe<Node>;
  /** Fetches up to 100 objects by global id, in order; null for each missing one. */
  nodes: Array<Maybe<Node>>;
  /** The authenticated caller. */
  viewer: Viewer;
};


export type QueryActivitiesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ActivityFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryContainersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ContainerFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryDockerEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<DockerEventFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryDockerHostArgs = {
  id: Scalars['ID']['input'];
};


export type QueryDockerHostsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryImagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ImageFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};

export type RegisterDockerHostInput = {
  /** Docker Engine API: unix:///var/run/docker.sock, tcp://10.0.0.10:2376, http://… or https://… */
  apiEndpoint: Scalars['String']['input'];
  /** staging, production, development, or a custom label. */
  environment: Scalars['String']['input'];
  /** Unique per account: letters, digits, ".", "_", "-" (1–100). */
  name: Scalars['String']['input'];
  /** Inventory sync interval, 30–3600 s. Default 60. */
  syncIntervalSeconds?: InputMaybe<Scalars['Int']['input']>;
  tlsCredentials?: InputMaybe<TlsCredentialsInput>;
  /** Use mutual TLS and verify the daemon against the CA (needs ca, cert and key). Default false. */
  tlsVerify?: InputMaybe<Scalars['Boolean']['input']>;
};

export type RemoveDockerHostPayload = {
  __typename?: 'RemoveDockerHostPayload';
  activity: DockerActivity;
  removedId: Scalars['ID']['output'];
};

export type SetDockerHostMaintenanceInput = {
  id: Scalars['ID']['input'];
  /** true: stop syncing and streaming; false: reconnect (status goes back to pending). */
  maintenance: Scalars['Boolean']['input'];
};

export type Subscription = {
  __typename?: 'Subscription';
  /** Activities of your account as they start, progress and finish. */
  activityUpdated: DockerActivity;
  /** Live events of one host, stored first (replayed events are not sent twice), then delivered through pub/sub to any replica. */
  dockerEvents: DockerEvent;
  /** Status transitions of your hosts (or of one host). */
  dockerHostStatusChanged: DockerHostStatusChange;
};


export type SubscriptionActivityUpdatedArgs = {
  hostId?: InputMaybe<Scalars['ID']['input']>;
};


export type SubscriptionDockerEventsArgs = {
  filter?: InputMaybe<DockerEventFilter>;
  hostId: Scalars['ID']['input'];
};


export type SubscriptionDockerHostStatusChangedArgs = {
  hostId?: InputMaybe<Scalars['ID']['input']>;
};

export type SyncDockerHostPayload = {
  __typename?: 'SyncDockerHostPayload';
  activity: DockerActivity;
  /** Containers created, changed or removed since the previous sync. */
  changes: Scalars['Int']['output'];
  containers: Scalars['Int']['output'];
  host: DockerHost;
  images: Scalars['Int']['output'];
};

/** PEM-encoded TLS material. Write-only: stored encrypted (AES-256-GCM), never returned, redacted in logs and activities. */
export type TlsCredentialsInput = {
  /** CA certificate that signed the daemon's certificate. */
  ca?: InputMaybe<Scalars['String']['input']>;
  /** Client certificate (extendedKeyUsage=clientAuth). */
  cert?: InputMaybe<Scalars['String']['input']>;
  /** Client private key. */
  key?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateDockerHostInput = {
  apiEndpoint?: InputMaybe<Scalars['String']['input']>;
  environment?: InputMaybe<Scalars['String']['input']>;
  id: Scalars['ID']['input'];
  name?: InputMaybe<Scalars['String']['input']>;
  syncIntervalSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** Replaces the stored credentials; all fields empty removes them. */
  tlsCredentials?: InputMaybe<TlsCredentialsInput>;
  tlsVerify?: InputMaybe<Scalars['Boolean']['input']>;
};

/** A token subject within an account. */
export type User = Node & {
  __typename?: 'User';
  createdAt: Scalars['DateTimeISO']['output'];
  /** Opaque global id */
  id: Scalars['ID']['output'];
  lastSeenAt: Scalars['DateTimeISO']['output'];
  /** The token subject (`sub` claim). */
  subject: Scalars['String']['output'];
  updatedAt: Scalars['DateTimeISO']['output'];
};

/** The caller: who they are, their account and what they may do. */
export type Viewer = {
  __typename?: 'Viewer';
  account: Account;
  /** Permissions granted by the token. */
  permissions: Array<Scalars['String']['output']>;
  user: User;
};

export type ActivityFilter = {
  /** Action prefix, e.g. "container." or "image.pull". */
  action?: string | null | undefined;
  hostId?: string | number | null | undefined;
  since?: string | null | undefined;
  status?: Array<ActivityStatus> | null | undefined;
  targetId?: string | null | undefined;
};

export type ActivityStatus =
  | 'FAILED'
  | 'PENDING'
  | 'SUCCEEDED';

export type ContainerFilter = {
  /** "key" (label present) or "key=value". */
  label?: string | null | undefined;
  /** Substring of the container name (case-insensitive). */
  name?: string | null | undefined;
  /** created, running, paused, restarting, removing, exited, dead */
  state?: Array<string> | null | undefined;
};

export type DockerEventFilter = {
  /** create, start, die, destroy, … */
  actions?: Array<string> | null | undefined;
  actorId?: string | null | undefined;
  severities?: Array<EventSeverity> | null | undefined;
  since?: string | null | undefined;
  /** container, image, network, volume, … */
  types?: Array<string> | null | undefined;
  until?: string | null | undefined;
};

export type DockerHostIdInput = {
  id: string | number;
};

export type EventSeverity =
  | 'ERROR'
  | 'INFO'
  | 'WARNING';

/** STREAM: read from the daemon's /events. RESYNC: found by the list-and-diff after a reconnect (Docker had dropped it or was restarted). */
export type EventSource =
  | 'RESYNC'
  | 'STREAM';

/** Connection state of a Docker host (or a Swarm cluster manager endpoint). */
export type HostStatus =
  /** Ping and info succeeded; syncing and streaming events. */
  | 'CONNECTED'
  /** The connection dropped; retrying. */
  | 'DISCONNECTED'
  /** 5 consecutive failures; still retried at the sync interval. recoverDockerHost resets the count. */
  | 'ERROR'
  /** Taken offline by an operator: no syncing, no event stream. */
  | 'MAINTENANCE'
  /** Registered, not yet connected. */
  | 'PENDING';

export type ImageFilter = {
  /** Substring of a repo tag. */
  tag?: string | null | undefined;
};

export type RegisterDockerHostInput = {
  /** Docker Engine API: unix:///var/run/docker.sock, tcp://10.0.0.10:2376, http://… or https://… */
  apiEndpoint: string;
  /** staging, production, development, or a custom label. */
  environment: string;
  /** Unique per account: letters, digits, ".", "_", "-" (1–100). */
  name: string;
  /** Inventory sync interval, 30–3600 s. Default 60. */
  syncIntervalSeconds?: number | null | undefined;
  tlsCredentials?: TlsCredentialsInput | null | undefined;
  /** Use mutual TLS and verify the daemon against the CA (needs ca, cert and key). Default false. */
  tlsVerify?: boolean | null | undefined;
};

export type SetDockerHostMaintenanceInput = {
  id: string | number;
  /** true: stop syncing and streaming; false: reconnect (status goes back to pending). */
  maintenance: boolean;
};

/** PEM-encoded TLS material. Write-only: stored encrypted (AES-256-GCM), never returned, redacted in logs and activities. */
export type TlsCredentialsInput = {
  /** CA certificate that signed the daemon's certificate. */
  ca?: string | null | undefined;
  /** Client certificate (extendedKeyUsage=clientAuth). */
  cert?: string | null | undefined;
  /** Client private key. */
  key?: string | null | undefined;
};

export type UpdateDockerHostInput = {
  apiEndpoint?: string | null | undefined;
  environment?: string | null | undefined;
  id: string | number;
  name?: string | null | undefined;
  syncIntervalSeconds?: number | null | undefined;
  /** Replaces the stored credentials; all fields empty removes them. */
  tlsCredentials?: TlsCredentialsInput | null | undefined;
  tlsVerify?: boolean | null | undefined;
};

export type HostFieldsFragment = { id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null };

export type ActivityFieldsFragment = { id: string, action: string, targetType: string, targetId: string | null, parameters: unknown, status: ActivityStatus, error: string | null, errorCode: string | null, dockerStatus: number | null, progress: unknown, result: unknown, startedAt: string, finishedAt: string | null, durationMs: number | null, user: { subject: string } | null, host: { id: string, name: string } | null };

export type EventFieldsFragment = { id: string, type: string, action: string, actorId: string, attributes: unknown, time: string, timeNano: string, severity: EventSeverity, source: EventSource, host: { id: string } | null };

export type RegisterDockerHostMutationVariables = Exact<{
  input: RegisterDockerHostInput;
}>;


export type RegisterDockerHostMutation = { registerDockerHost: { host: { id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null }, activity: { id: string, action: string, targetType: string, targetId: string | null, parameters: unknown, status: ActivityStatus, error: string | null, errorCode: string | null, dockerStatus: number | null, progress: unknown, result: unknown, startedAt: string, finishedAt: string | null, durationMs: number | null, user: { subject: string } | null, host: { id: string, name: string } | null } } };

export type UpdateDockerHostMutationVariables = Exact<{
  input: UpdateDockerHostInput;
}>;


export type UpdateDockerHostMutation = { updateDockerHost: { host: { id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null }, activity: { id: string, action: string, targetType: string, targetId: string | null, parameters: unknown, status: ActivityStatus, error: string | null, errorCode: string | null, dockerStatus: number | null, progress: unknown, result: unknown, startedAt: string, finishedAt: string | null, durationMs: number | null, user: { subject: string } | null, host: { id: string, name: string } | null } } };

export type RemoveDockerHostMutationVariables = Exact<{
  input: DockerHostIdInput;
}>;


export type RemoveDockerHostMutation = { removeDockerHost: { removedId: string, activity: { id: string, action: string, targetType: string, targetId: string | null, parameters: unknown, status: ActivityStatus, error: string | null, errorCode: string | null, dockerStatus: number | null, progress: unknown, result: unknown, startedAt: string, finishedAt: string | null, durationMs: number | null, user: { subject: string } | null, host: { id: string, name: string } | null } } };

export type SetDockerHostMaintenanceMutationVariables = Exact<{
  input: SetDockerHostMaintenanceInput;
}>;


export type SetDockerHostMaintenanceMutation = { setDockerHostMaintenance: { host: { id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null }, activity: { id: string, status: ActivityStatus } } };

export type RecoverDockerHostMutationVariables = Exact<{
  input: DockerHostIdInput;
}>;


export type RecoverDockerHostMutation = { recoverDockerHost: { host: { id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null }, activity: { id: string, status: ActivityStatus } } };

export type SyncDockerHostMutationVariables = Exact<{
  input: DockerHostIdInput;
}>;


export type SyncDockerHostMutation = { syncDockerHost: { containers: number, images: number, changes: number, host: { id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null }, activity: { id: string, action: string, targetType: string, targetId: string | null, parameters: unknown, status: ActivityStatus, error: string | null, errorCode: string | null, dockerStatus: number | null, progress: unknown, result: unknown, startedAt: string, finishedAt: string | null, durationMs: number | null, user: { subject: string } | null, host: { id: string, name: string } | null } } };

export type DockerHostsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type DockerHostsQuery = { dockerHosts: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null }> } };

export type DockerHostQueryVariables = Exact<{
  id: string | number;
}>;


export type DockerHostQuery = { dockerHost: { id: string, name: string, apiEndpoint: string, environment: string, tlsVerify: boolean, hasTlsCredentials: boolean, syncIntervalSeconds: number, status: HostStatus, consecutiveFailures: number, lastError: string | null, lastSyncedAt: string | null, dockerVersion: string | null, operatingSystem: string | null, architecture: string | null, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, containerCount: number | null, runningContainerCount: number | null, imageCount: number | null, health: { status: HostStatus, pingLatencyMs: number | null, healthy: number, unhealthy: number, starting: number, none: number, running: number, total: number, cpuCount: number | null, memoryBytes: string | null, storageBytes: string | null, lastSyncedAt: string | null } } };

export type HostContainersQueryVariables = Exact<{
  id: string | number;
  filter?: ContainerFilter | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type HostContainersQuery = { dockerHost: { id: string, containers: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, containerId: string, name: string, image: string, state: string, status: string | null, health: string | null, labels: unknown }> } } };

export type HostImagesQueryVariables = Exact<{
  id: string | number;
  filter?: ImageFilter | null | undefined;
}>;


export type HostImagesQuery = { dockerHost: { id: string, images: { totalCount: number, nodes: Array<{ id: string, imageId: string, repoTags: Array<string>, sizeBytes: string }> } } };

export type ContainersQueryVariables = Exact<{
  filter?: ContainerFilter | null | undefined;
  first?: number | null | undefined;
}>;


export type ContainersQuery = { containers: { totalCount: number, nodes: Array<{ id: string, containerId: string, name: string, state: string, host: { id: string, name: string } | null }> } };

export type ImagesQueryVariables = Exact<{
  filter?: ImageFilter | null | undefined;
  first?: number | null | undefined;
}>;


export type ImagesQuery = { images: { totalCount: number, nodes: Array<{ id: string, imageId: string, repoTags: Array<string>, host: { id: string, name: string } | null }> } };

export type StoredEventsQueryVariables = Exact<{
  filter?: DockerEventFilter | null | undefined;
  first?: number | null | undefined;
}>;


export type StoredEventsQuery = { dockerEvents: { totalCount: number, nodes: Array<{ id: string, type: string, action: string, actorId: string, attributes: unknown, time: string, timeNano: string, severity: EventSeverity, source: EventSource, activity: { id: string, action: string } | null, host: { id: string } | null }> } };

export type ActivitiesQueryVariables = Exact<{
  filter?: ActivityFilter | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ActivitiesQuery = { activities: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, action: string, targetType: string, targetId: string | null, parameters: unknown, status: ActivityStatus, error: string | null, errorCode: string | null, dockerStatus: number | null, progress: unknown, result: unknown, startedAt: string, finishedAt: string | null, durationMs: number | null, events: { totalCount: number, nodes: Array<{ type: string, action: string, actorId: string }> }, user: { subject: string } | null, host: { id: string, name: string } | null }> } };

export type OnDockerEventsSubscriptionVariables = Exact<{
  hostId: string | number;
  filter?: DockerEventFilter | null | undefined;
}>;


export type OnDockerEventsSubscription = { dockerEvents: { id: string, type: string, action: string, actorId: string, attributes: unknown, time: string, timeNano: string, severity: EventSeverity, source: EventSource, host: { id: string } | null } };

export type OnHostStatusSubscriptionVariables = Exact<{
  hostId?: string | number | null | undefined;
}>;


export type OnHostStatusSubscription = { dockerHostStatusChanged: { hostId: string, name: string, status: HostStatus, previousStatus: HostStatus, consecutiveFailures: number, lastError: string | null, changedAt: string } };

export type OnActivitySubscriptionVariables = Exact<{
  hostId?: string | number | null | undefined;
}>;


export type OnActivitySubscription = { activityUpdated: { id: string, action: string, targetType: string, targetId: string | null, parameters: unknown, status: ActivityStatus, error: string | null, errorCode: string | null, dockerStatus: number | null, progress: unknown, result: unknown, startedAt: string, finishedAt: string | null, durationMs: number | null, user: { subject: string } | null, host: { id: string, name: string } | null } };

export type FoundationNodeQueryVariables = Exact<{
  id: string | number;
}>;


export type FoundationNodeQuery = { node:
    | { __typename: 'Account', name: string, id: string }
    | { __typename: 'DockerActivity', id: string }
    | { __typename: 'DockerContainer', id: string }
    | { __typename: 'DockerEvent', id: string }
    | { __typename: 'DockerHost', id: string }
    | { __typename: 'DockerImage', id: string }
    | { __typename: 'User', subject: string, id: string }
   | null };

export type FoundationNodesQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type FoundationNodesQuery = { nodes: Array<
    | { __typename: 'Account', name: string, id: string }
    | { __typename: 'DockerActivity', id: string }
    | { __typename: 'DockerContainer', id: string }
    | { __typename: 'DockerEvent', id: string }
    | { __typename: 'DockerHost', id: string }
    | { __typename: 'DockerImage', id: string }
    | { __typename: 'User', subject: string, id: string }
   | null> };

export type FoundationPermissionsQueryVariables = Exact<{ [key: string]: never; }>;


export type FoundationPermissionsQuery = { viewer: { permissions: Array<string> } };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { permissions: Array<string>, user: { id: string, subject: string }, account: { id: string, name: string } } };

export type NodeQueryVariables = Exact<{
  id: string | number;
}>;


export type NodeQuery = { node:
    | { __typename: 'Account', id: string }
    | { __typename: 'DockerActivity', id: string }
    | { __typename: 'DockerContainer', id: string }
    | { __typename: 'DockerEvent', id: string }
    | { __typename: 'DockerHost', id: string }
    | { __typename: 'DockerImage', id: string }
    | { __typename: 'User', id: string }
   | null };

export type NodesQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type NodesQuery = { nodes: Array<
    | { __typename: 'Account', id: string }
    | { __typename: 'DockerActivity', id: string }
    | { __typename: 'DockerContainer', id: string }
    | { __typename: 'DockerEvent', id: string }
    | { __typename: 'DockerHost', id: string }
    | { __typename: 'DockerImage', id: string }
    | { __typename: 'User', id: string }
   | null> };

export const HostFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}}]} as unknown as DocumentNode<HostFieldsFragment, unknown>;
export const ActivityFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"dockerStatus"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"result"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<ActivityFieldsFragment, unknown>;
export const EventFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"EventFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"actorId"}},{"kind":"Field","name":{"kind":"Name","value":"attributes"}},{"kind":"Field","name":{"kind":"Name","value":"time"}},{"kind":"Field","name":{"kind":"Name","value":"timeNano"}},{"kind":"Field","name":{"kind":"Name","value":"severity"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<EventFieldsFragment, unknown>;
export const RegisterDockerHostDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RegisterDockerHost"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RegisterDockerHostInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"registerDockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"HostFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActivityFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"dockerStatus"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"result"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<RegisterDockerHostMutation, RegisterDockerHostMutationVariables>;
export const UpdateDockerHostDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateDockerHost"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateDockerHostInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateDockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"HostFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActivityFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"dockerStatus"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"result"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<UpdateDockerHostMutation, UpdateDockerHostMutationVariables>;
export const RemoveDockerHostDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RemoveDockerHost"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHostIdInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"removeDockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"removedId"}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActivityFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"dockerStatus"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"result"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<RemoveDockerHostMutation, RemoveDockerHostMutationVariables>;
export const SetDockerHostMaintenanceDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SetDockerHostMaintenance"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SetDockerHostMaintenanceInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"setDockerHostMaintenance"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"HostFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}}]} as unknown as DocumentNode<SetDockerHostMaintenanceMutation, SetDockerHostMaintenanceMutationVariables>;
export const RecoverDockerHostDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RecoverDockerHost"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHostIdInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"recoverDockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"HostFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}}]} as unknown as DocumentNode<RecoverDockerHostMutation, RecoverDockerHostMutationVariables>;
export const SyncDockerHostDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SyncDockerHost"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHostIdInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncDockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"HostFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"containers"}},{"kind":"Field","name":{"kind":"Name","value":"images"}},{"kind":"Field","name":{"kind":"Name","value":"changes"}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActivityFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"dockerStatus"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"result"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<SyncDockerHostMutation, SyncDockerHostMutationVariables>;
export const DockerHostsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DockerHosts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerHosts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"HostFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}}]} as unknown as DocumentNode<DockerHostsQuery, DockerHostsQueryVariables>;
export const DockerHostDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DockerHost"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"HostFields"}},{"kind":"Field","name":{"kind":"Name","value":"health"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pingLatencyMs"}},{"kind":"Field","name":{"kind":"Name","value":"healthy"}},{"kind":"Field","name":{"kind":"Name","value":"unhealthy"}},{"kind":"Field","name":{"kind":"Name","value":"starting"}},{"kind":"Field","name":{"kind":"Name","value":"none"}},{"kind":"Field","name":{"kind":"Name","value":"running"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"HostFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerHost"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"apiEndpoint"}},{"kind":"Field","name":{"kind":"Name","value":"environment"}},{"kind":"Field","name":{"kind":"Name","value":"tlsVerify"}},{"kind":"Field","name":{"kind":"Name","value":"hasTlsCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dockerVersion"}},{"kind":"Field","name":{"kind":"Name","value":"operatingSystem"}},{"kind":"Field","name":{"kind":"Name","value":"architecture"}},{"kind":"Field","name":{"kind":"Name","value":"cpuCount"}},{"kind":"Field","name":{"kind":"Name","value":"memoryBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storageBytes"}},{"kind":"Field","name":{"kind":"Name","value":"containerCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningContainerCount"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}}]}}]} as unknown as DocumentNode<DockerHostQuery, DockerHostQueryVariables>;
export const HostContainersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"HostContainers"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ContainerFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"containers"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"containerId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"image"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"health"}},{"kind":"Field","name":{"kind":"Name","value":"labels"}}]}}]}}]}}]}}]} as unknown as DocumentNode<HostContainersQuery, HostContainersQueryVariables>;
export const HostImagesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"HostImages"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ImageFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerHost"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"images"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"imageId"}},{"kind":"Field","name":{"kind":"Name","value":"repoTags"}},{"kind":"Field","name":{"kind":"Name","value":"sizeBytes"}}]}}]}}]}}]}}]} as unknown as DocumentNode<HostImagesQuery, HostImagesQueryVariables>;
export const ContainersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Containers"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ContainerFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"containers"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"containerId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ContainersQuery, ContainersQueryVariables>;
export const ImagesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Images"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ImageFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"images"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"imageId"}},{"kind":"Field","name":{"kind":"Name","value":"repoTags"}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ImagesQuery, ImagesQueryVariables>;
export const StoredEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"StoredEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DockerEventFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"EventFields"}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"EventFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"actorId"}},{"kind":"Field","name":{"kind":"Name","value":"attributes"}},{"kind":"Field","name":{"kind":"Name","value":"time"}},{"kind":"Field","name":{"kind":"Name","value":"timeNano"}},{"kind":"Field","name":{"kind":"Name","value":"severity"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<StoredEventsQuery, StoredEventsQueryVariables>;
export const ActivitiesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Activities"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ActivityFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"activities"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActivityFields"}},{"kind":"Field","name":{"kind":"Name","value":"events"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"20"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"actorId"}}]}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"dockerStatus"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"result"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<ActivitiesQuery, ActivitiesQueryVariables>;
export const OnDockerEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"OnDockerEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"hostId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DockerEventFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"hostId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"hostId"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"EventFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"EventFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"actorId"}},{"kind":"Field","name":{"kind":"Name","value":"attributes"}},{"kind":"Field","name":{"kind":"Name","value":"time"}},{"kind":"Field","name":{"kind":"Name","value":"timeNano"}},{"kind":"Field","name":{"kind":"Name","value":"severity"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<OnDockerEventsSubscription, OnDockerEventsSubscriptionVariables>;
export const OnHostStatusDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"OnHostStatus"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"hostId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerHostStatusChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"hostId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"hostId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hostId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"previousStatus"}},{"kind":"Field","name":{"kind":"Name","value":"consecutiveFailures"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"changedAt"}}]}}]}}]} as unknown as DocumentNode<OnHostStatusSubscription, OnHostStatusSubscriptionVariables>;
export const OnActivityDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"OnActivity"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"hostId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"activityUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"hostId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"hostId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActivityFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DockerActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"dockerStatus"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"result"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"host"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<OnActivitySubscription, OnActivitySubscriptionVariables>;
export const FoundationNodeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FoundationNode"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Account"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}}]}}]}}]} as unknown as DocumentNode<FoundationNodeQuery, FoundationNodeQueryVariables>;
export const FoundationNodesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FoundationNodes"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"ids"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nodes"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"ids"},"value":{"kind":"Variable","name":{"kind":"Name","value":"ids"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Account"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}}]}}]}}]} as unknown as DocumentNode<FoundationNodesQuery, FoundationNodesQueryVariables>;
export const FoundationPermissionsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FoundationPermissions"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"permissions"}}]}}]}}]} as unknown as DocumentNode<FoundationPermissionsQuery, FoundationPermissionsQueryVariables>;
export const ViewerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}}]}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"permissions"}}]}}]}}]} as unknown as DocumentNode<ViewerQuery, ViewerQueryVariables>;
export const NodeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Node"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<NodeQuery, NodeQueryVariables>;
export const NodesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Nodes"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"ids"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nodes"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"ids"},"value":{"kind":"Variable","name":{"kind":"Name","value":"ids"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<NodesQuery, NodesQueryVariables>;