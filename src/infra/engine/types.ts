import type Docker from 'dockerode';

/**
 * What the engine port (src/infra/engine/port.ts) takes and returns. Where @types/dockerode
 * describes Docker's answers right (containers, images, networks, volumes), its types are used;
 * where it says `any` (info, swarm, nodes, services, tasks) these are our own, with every field
 * optional (Docker leaves fields out) and the rest of an object kept as `unknown` (a spec read
 * from Docker is sent back whole, with fields we do not know).
 */

/** Fields of a Docker object that we pass on as they are. */
export interface Open {
  [field: string]: unknown;
}

export type Labels = Record<string, string>;
/** Docker's list filters (`{ name: ['web'] }`). */
export type Filters = Record<string, string[]>;

// ------------------------------------------------------------------------------------------------
// Containers, images, networks, volumes
// ------------------------------------------------------------------------------------------------

export type ContainerCreateSpec = Docker.ContainerCreateOptions;
export type ContainerInspect = Docker.ContainerInspectInfo;
export type ContainerSummary = Docker.ContainerInfo;
export type ExecSpec = Docker.ExecCreateOptions;
export type ImageSummary = Docker.ImageInfo;
export type ImageInspect = Docker.ImageInspectInfo;
export type NetworkInspect = Docker.NetworkInspectInfo;
export type NetworkCreateSpec = Docker.NetworkCreateOptions;
export type NetworkConnectSpec = Docker.NetworkConnectOptions;
export type VolumeCreateSpec = Docker.VolumeCreateOptions;
/** Docker sends CreatedAt (RFC 3339) too. */
export type VolumeInspect = Docker.VolumeInspectInfo & { CreatedAt?: string };

/** Registry credentials, as Docker's X-Registry-Auth header carries them. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
}

export interface ImageRemoveEntry {
  Untagged?: string;
  Deleted?: string;
}

export interface VolumePruneResult {
  VolumesDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

/** `GET /distribution/{name}/json`: the registry's descriptor of the image (an OCI descriptor). */
export interface DistributionInspect {
  Descriptor?: { mediaType?: string; digest?: string; size?: number };
}

/** What a build is asked (the port turns it into Docker's query). */
export interface BuildSpec {
  dockerfile: string;
  tags: string[];
  buildArgs?: Labels;
  labels?: Labels;
  noCache: boolean;
  pull: boolean;
}

/** What a log read asks for (container and service logs). */
export interface LogQuery {
  follow: boolean;
  tail: number;
  /** Unix seconds. */
  since?: number;
}

// ------------------------------------------------------------------------------------------------
// The engine and its swarm
// ------------------------------------------------------------------------------------------------

export interface ObjectVersion {
  Index?: number;
}

/** `GET /info`, the fields we read. */
export interface EngineInfo extends Open {
  ID?: string;
  CgroupVersion?: string;
  Swarm?: LocalSwarm;
}

/** `GET /info`'s Swarm: this engine's part in a swarm. */
export interface LocalSwarm extends Open {
  NodeID?: string;
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  Cluster?: SwarmInspect | null;
  RemoteManagers?: Array<{ NodeID?: string; Addr?: string }> | null;
}

/** The swarm's settings (Docker's field names; durations in nanoseconds). */
export interface SwarmSpec extends Open {
  Name?: string;
  Labels?: Labels;
  Orchestration?: Open & { TaskHistoryRetentionLimit?: number };
  Raft?: Open & { SnapshotInterval?: number; KeepOldSnapshots?: number; LogEntriesForSlowFollowers?: number; ElectionTick?: number; HeartbeatTick?: number };
  Dispatcher?: Open & { HeartbeatPeriod?: number };
  CAConfig?: Open & { NodeCertExpiry?: number };
  EncryptionConfig?: Open & { AutoLockManagers?: boolean };
}

/** `GET /swarm` (JoinTokens only there, not in info's Cluster). */
export interface SwarmInspect extends Open {
  ID?: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: SwarmSpec;
  JoinTokens?: { Worker?: string; Manager?: string };
}

export interface SwarmInitRequest {
  ListenAddr: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  ForceNewCluster: boolean;
  DefaultAddrPool?: string[];
  Spec: SwarmSpec;
  AutoLockManagers?: boolean;
}

export interface SwarmJoinRequest {
  ListenAddr: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  RemoteAddrs: string[];
  JoinToken?: string;
}

export interface SwarmRotation {
  rotateWorkerToken: boolean;
  rotateManagerToken: boolean;
  rotateManagerUnlockKey: boolean;
}

export interface NodeSpec extends Open {
  Name?: string;
  Labels?: Labels;
  Role?: string;
  Availability?: string;
}

export interface NodeInspect extends Open {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: NodeSpec;
  Description?: Open & {
    Hostname?: string;
    Platform?: { OS?: string; Architecture?: string };
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
    Engine?: Open & { EngineVersion?: string };
  };
  Status?: Open & { State?: string; Message?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string } | null;
}

/** A secret or config mounted into a service's containers. */
export interface FileReference extends Open {
  SecretID?: string;
  SecretName?: string;
  ConfigID?: string;
  ConfigName?: string;
  File?: { Name?: string; UID?: string; GID?: string; Mode?: number };
}

export interface ServiceContainerSpec extends Open {
  Image?: string;
  Secrets?: FileReference[];
  Configs?: FileReference[];
}

export interface TaskTemplate extends Open {
  ContainerSpec?: ServiceContainerSpec;
  ForceUpdate?: number;
}

/** A ServiceSpec (Docker's field names; durations in nanoseconds). */
export interface ServiceSpec extends Open {
  Name?: string;
  Labels?: Labels;
  TaskTemplate?: TaskTemplate;
  Mode?: Open & { Replicated?: { Replicas?: number }; Global?: object };
}

export interface ServiceInspect extends Open {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: ServiceSpec;
  PreviousSpec?: ServiceSpec | null;
  UpdateStatus?: (Open & { State?: string }) | null;
  ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number } | null;
}

/** What an update of a service may ask besides the spec: Docker's server-side rollback. */
export interface ServiceUpdateOptions {
  rollback?: 'previous';
}

export interface ServiceUpdateResult {
  Warnings?: string[] | null;
}

export interface TaskInspect extends Open {
  ID: string;
  Version?: ObjectVersion;
  ServiceID?: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  CreatedAt?: string;
  UpdatedAt?: string;
  Status?: Open & { State?: string; Message?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  /** The task template the task was made from (compared with the service's to tell the current spec's tasks). */
  Spec?: Open & { ContainerSpec?: ServiceContainerSpec };
}

/** A secret's or config's spec (Data: base64; never in a secret's inspect). */
export interface SecretSpec extends Open {
  Name?: string;
  Labels?: Labels;
  Data?: string;
}

/** A secret or a config (same shape). */
export interface SecretInspect extends Open {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: SecretSpec;
}
