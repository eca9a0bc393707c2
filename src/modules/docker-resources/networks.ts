import type { DockerHost } from '../../../entities';
import { badInput } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';
import { HostAccessGuard, refuse } from '../../platform/policy/enforce';
import { endpointAddressRefusals, networkAttachAccess, networkCreateRefusals } from '../../platform/policy/host-access';
import type { HostOperations } from './operations';
import type { NetworkInspect } from '../../infra/engine/types';

export interface DockerNetworkInfo {
  networkId: string;
  name: string;
  driver: string;
  scope: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  ipam: Array<{ subnet?: string; gateway?: string }>;
  labels: Record<string, string>;
  containers: Array<{ containerId: string; name: string; ipv4Address?: string }>;
  createdAt: Date | null;
}

export interface CreateNetworkInput {
  name: string;
  driver?: string | null;
  internal?: boolean | null;
  attachable?: boolean | null;
  labels?: Record<string, unknown> | null;
  subnet?: string | null;
  gateway?: string | null;
}

export interface ConnectNetworkInput {
  network: string;
  container: string;
  aliases?: string[] | null;
  ipv4Address?: string | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;
const IP = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$/;
/** A network or container the caller names (name or id) goes into a Docker API path: only name characters. */
function reference(field: string, value: string): string {
  if (!NAME.test(value)) throw badInput(field, 'must be a name or id: letters, digits, "_", "." or "-" (1–128), starting with a letter or digit');
  return value;
}

/** Docker's predefined networks: removing them is refused by Docker too; we say so up front. */
const PREDEFINED = new Set(['bridge', 'host', 'none']);

export function networkInfo(n: NetworkInspect): DockerNetworkInfo {
  return {
    networkId: n.Id,
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope,
    internal: Boolean(n.Internal),
    attachable: Boolean(n.Attachable),
    ingress: Boolean(n.Ingress),
    ipam: (n.IPAM?.Config ?? []).map((c) => ({ subnet: c.Subnet, gateway: c.Gateway })),
    labels: n.Labels ?? {},
    containers: Object.entries(n.Containers ?? {}).map(([id, c]) => ({ containerId: id, name: c.Name, ipv4Address: c.IPv4Address || undefined })),
    createdAt: n.Created ? new Date(n.Created) : null,
  };
}

/** Networks of one host (the runbook's NetworkManager): live from Docker, not stored. */
export class NetworkManager {
  constructor(
    private readonly ops: HostOperations,
    private readonly guard: HostAccessGuard,
  ) {}

  list(scope: Scope, host: DockerHost, name?: string | null): Promise<DockerNetworkInfo[]> {
    return this.ops.read(scope, host, async (engine) => {
      const list = await engine.listNetworks(name ? { name: [name] } : undefined);
      return list.map(networkInfo).sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  inspect(scope: Scope, host: DockerHost, network: string): Promise<NetworkInspect> {
    return this.ops.read(scope, host, (engine) => engine.inspectNetwork(network));
  }

  async create(scope: Scope, host: DockerHost, input: CreateNetworkInput) {
    if (!NAME.test(input.name ?? '')) throw badInput('name', 'must be letters, digits, "_", "." or "-" (1–128), starting with a letter or digit');
    if (input.subnet != null && !CIDR.test(input.subnet)) throw badInput('subnet', 'must be a CIDR such as 10.20.0.0/24');
    if (input.gateway != null && !IP.test(input.gateway)) throw badInput('gateway', 'must be an IP address');
    if (input.gateway != null && input.subnet == null) throw badInput('gateway', 'needs a subnet');
    refuse(scope, networkCreateRefusals(input));
    return this.ops.run(scope, host, { action: 'network.create', targetType: 'network', targetId: input.name, parameters: input }, async ({ engine, handle }) => {
      const id = await engine.createNetwork({
        Name: input.name,
        Driver: input.driver ?? 'bridge',
        Internal: input.internal ?? false,
        Attachable: input.attachable ?? false,
        CheckDuplicate: true,
        Labels: Object.fromEntries(Object.entries(input.labels ?? {}).map(([k, v]) => [k, String(v)])),
        ...(input.subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: input.subnet, ...(input.gateway ? { Gateway: input.gateway } : {}) }] } } : {}),
      });
      handle.setTarget(id);
      return networkInfo(await engine.inspectNetwork(id));
    });
  }

  async remove(scope: Scope, host: DockerHost, network: string) {
    reference('network', network);
    if (PREDEFINED.has(network)) throw badInput('network', `"${network}" is one of Docker's predefined networks and cannot be removed`);
    const { activity } = await this.ops.run(scope, host, { action: 'network.remove', targetType: 'network', targetId: network, parameters: { network } }, async ({ engine }) => {
      await engine.removeNetwork(network);
    });
    return { removedId: network, activity };
  }

  async connect(scope: Scope, host: DockerHost, input: ConnectNetworkInput) {
    reference('network', input.network);
    reference('container', input.container);
    if (input.ipv4Address != null && !IP.test(input.ipv4Address)) throw badInput('ipv4Address', 'must be an IP address');
    if (input.ipv4Address != null) refuse(scope, endpointAddressRefusals('ipv4Address', input.ipv4Address));
    // a macvlan, ipvlan or plugin network an admin made is the host's own network: same rule as a create's networks
    await this.ops.read(scope, host, (engine) => this.guard.checkOn(scope, engine, networkAttachAccess(input.network, 'network')));
    return this.ops.run(scope, host, { action: 'network.connect', targetType: 'network', targetId: input.network, parameters: input }, async ({ engine }) => {
      await engine.connectNetwork(input.network, {
        Container: input.container,
        EndpointConfig: { Aliases: input.aliases ?? undefined, ...(input.ipv4Address ? { IPAMConfig: { IPv4Address: input.ipv4Address } } : {}) },
      });
      return networkInfo(await engine.inspectNetwork(input.network));
    });
  }

  async disconnect(scope: Scope, host: DockerHost, network: string, container: string, force: boolean) {
    reference('network', network);
    reference('container', container);
    return this.ops.run(scope, host, { action: 'network.disconnect', targetType: 'network', targetId: network, parameters: { network, container, force } }, async ({ engine }) => {
      await engine.disconnectNetwork(network, container, force);
      return networkInfo(await engine.inspectNetwork(network));
    });
  }
}
