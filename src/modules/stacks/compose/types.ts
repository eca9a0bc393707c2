/**
 * What a compose file converts to: the Engine API bodies `docker stack deploy` sends, with
 * Docker's field names and the CLI's choices of what is present (durations in nanoseconds, file
 * modes as numbers, secret and config data in base64). Object types, not interfaces, so that they
 * can be passed where the engine port's open types (src/infra/engine/types.ts) are expected.
 */

/** What `loadStack` takes: the stack's name, the compose text and what is sent with it. */
export type LoadStackInput = {
  /** The stack's name: the `<name>_` prefix of everything created and the value of com.docker.stack.namespace. */
  name: string;
  /** The compose file's text (YAML). */
  compose: string;
  /** Interpolation variables (`${VAR}`), the equivalent of the shell environment `docker stack deploy` runs in. */
  variables?: Record<string, string>;
  /** Contents of the files services name in `env_file:`, by the path written there (`./web.env` and `web.env` are the same file). */
  envFiles?: Record<string, string>;
  /** Contents of the files secrets and configs name in `file:`, by path (also searched for `env_file:` paths). */
  files?: Record<string, string>;
};

export type Labels = Record<string, string>;

export type Driver = { Name?: string; Options?: Record<string, string> };

export type Mount = {
  Type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'image' | 'cluster';
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Labels; Subpath?: string; DriverConfig?: Driver };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number };
  ClusterOptions?: Record<string, never>;
};

export type HealthConfig = {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
};

/** A secret mounted into a service. `SecretID` is left for the deployer to fill from the name (the CLI looks it up). */
export type SecretReference = {
  File: { Name: string; UID: string; GID: string; Mode: number };
  SecretName: string;
  SecretID?: string;
};

/** A config mounted into a service. `ConfigID` is left for the deployer to fill from the name. */
export type ConfigReference = {
  File: { Name: string; UID: string; GID: string; Mode: number };
  ConfigName: string;
  ConfigID?: string;
};

export type Ulimit = { Name: string; Soft: number; Hard: number };

export type ContainerSpec = {
  Image: string;
  Labels: Labels;
  /** The entrypoint (compose `entrypoint:`). */
  Command?: string[];
  /** The command (compose `command:`). */
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  /** Always present, as the CLI sends it (empty unless a credential spec is set, which we do not map). */
  Privileges: { CredentialSpec: null; SELinuxContext: null; NoNewPrivileges: false };
  Init?: boolean;
  StopSignal?: string;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  Mounts?: Mount[];
  StopGracePeriod?: number;
  Healthcheck?: HealthConfig;
  /** "IP host" lines (SwarmKit's notation), in the order written. */
  Hosts?: string[];
  DNSConfig?: { Nameservers?: string[]; Search?: string[] };
  Secrets?: SecretReference[];
  Configs?: ConfigReference[];
  Isolation?: string;
  Sysctls?: Record<string, string>;
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Ulimits?: Ulimit[];
  OomScoreAdj?: number;
};

export type ResourceRequirements = {
  Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
  Reservations?: { NanoCPUs?: number; MemoryBytes?: number; GenericResources?: Array<{ DiscreteResourceSpec?: { Kind?: string; Value?: number } }> };
};

export type RestartPolicy = { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number };

export type Placement = {
  Constraints?: string[];
  Preferences?: Array<{ Spread: { SpreadDescriptor: string } }>;
  MaxReplicas?: number;
};

export type NetworkAttachment = { Target: string; Aliases?: string[]; DriverOpts?: Record<string, string> };

export type TaskTemplate = {
  ContainerSpec: ContainerSpec;
  Resources: ResourceRequirements;
  RestartPolicy?: RestartPolicy;
  Placement: Placement;
  Networks?: NetworkAttachment[];
  LogDriver?: Driver;
  ForceUpdate: number;
};

export type ServiceMode = {
  Replicated?: { Replicas?: number };
  Global?: Record<string, never>;
  ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
  GlobalJob?: Record<string, never>;
};

export type UpdateConfig = {
  Parallelism: number;
  Delay?: number;
  FailureAction?: string;
  Monitor?: number;
  MaxFailureRatio: number;
  Order: string;
};

export type PortConfig = { Protocol?: string; TargetPort?: number; PublishedPort?: number; PublishMode?: string };

export type ServiceSpec = {
  Name: string;
  Labels: Labels;
  TaskTemplate: TaskTemplate;
  Mode: ServiceMode;
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  EndpointSpec: { Mode?: string; Ports?: PortConfig[] };
};

/** A network to create (POST /networks/create). Driver is "overlay" unless the file names another. */
export type NetworkCreate = {
  Name: string;
  Driver: string;
  Internal: boolean;
  Attachable: boolean;
  Options?: Record<string, string>;
  Labels: Labels;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string }> };
};

/** A secret to create or update (POST /secrets/create); Data is base64. */
export type SecretSpec = { Name: string; Labels: Labels; Data: string; Driver?: Driver; Templating?: Driver };

/** A config to create or update (POST /configs/create); Data is base64. */
export type ConfigSpec = { Name: string; Labels: Labels; Data: string; Templating?: Driver };

/**
 * A named volume services mount. Swarm creates volumes on each node from the mount's
 * VolumeOptions; this is the list for a deployer that wants to show, check or remove them.
 */
export type StackVolume = { Name: string; External: boolean; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Labels };

/** A converted stack: everything `docker stack deploy` would send, sorted by name, plus what it would print as warnings. */
export type ConvertedStack = {
  name: string;
  services: ServiceSpec[];
  networks: NetworkCreate[];
  /** External networks the stack uses (user-defined ones, which must exist with scope "swarm"). */
  externalNetworks: string[];
  secrets: SecretSpec[];
  /** External secrets services use, by name (they must exist). */
  externalSecrets: string[];
  configs: ConfigSpec[];
  /** External configs services use, by name (they must exist). */
  externalConfigs: string[];
  volumes: StackVolume[];
  warnings: string[];
};
