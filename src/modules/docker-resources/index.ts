import type { Audit } from '../../platform/audit/activity';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import type { HostService } from '../hosts';
import { ContainerManager } from './containers';
import { ImageManager } from './images';
import { NetworkManager } from './networks';
import { HostOperations } from './operations';
import { VolumeManager } from './volumes';

export { ContainerManager, createOptions, EXEC_OUTPUT_LIMIT, EXEC_TIMEOUT_DEFAULT_S, EXEC_TIMEOUT_MAX_S, LOG_TAIL_MAX } from './containers';
export type { CreateContainerInput, ExecInput, ExecResult, HealthcheckInput, LogsOptions, PortInput } from './containers';
export { BUILD_LINE_CUT, BUILD_LOG_LINES, checkReference, ImageManager, isReference, layerProgress } from './images';
export type { BuildImageInput, PullImageInput, PushImageInput, RegistryAuthInput, TagImageInput } from './images';
export { NetworkManager, networkInfo } from './networks';
export type { ConnectNetworkInput, CreateNetworkInput, DockerNetworkInfo } from './networks';
export { VolumeManager, volumeInfo } from './volumes';
export type { CreateVolumeInput, DockerVolumeInfo } from './volumes';
export { HostOperations } from './operations';
export type { Operation, OperationSpec } from './operations';

/** What the docker-resources module needs: the hosts it works on, the audit trail, the host-access guard. */
export interface DockerResourcesDeps {
  hosts: HostService;
  audit: Audit;
  guard: HostAccessGuard;
}

/** Containers, images, networks and volumes of registered hosts. */
export interface DockerResourcesModule {
  containers: ContainerManager;
  images: ImageManager;
  networks: NetworkManager;
  volumes: VolumeManager;
}

export function createDockerResourcesModule(deps: DockerResourcesDeps): DockerResourcesModule {
  // one way to run a host mutation and one way to read live, shared by the managers
  const ops = new HostOperations(deps.hosts, deps.audit);
  return {
    containers: new ContainerManager(ops, deps.guard),
    images: new ImageManager(ops),
    networks: new NetworkManager(ops, deps.guard),
    volumes: new VolumeManager(ops),
  };
}
