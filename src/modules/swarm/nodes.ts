import { SwarmCluster, SwarmNode, SwarmNodeAvailability, SwarmNodeRole } from '../../../entities';
import { conflict, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import type { Engine } from '../../infra/engine/port';
import type { NodeInspect, NodeSpec } from '../../infra/engine/types';
import { versionOf, withVersionRetry } from './docker';
import type { ClusterOperations } from './operation';
import { upsertNode } from './sync';

export interface NodeUpdateInput {
  availability?: SwarmNodeAvailability;
  /** Replaces all labels. */
  labels?: Record<string, string>;
  role?: SwarmNodeRole;
}

/**
 * Node operations through the cluster's manager. Every update reads the node's Version.Index,
 * sends it with the full spec, and retries on "update out of sequence".
 */
export class NodeManager {
  constructor(private readonly ops: ClusterOperations) {}

  /** A stored node of the scope's account, with its cluster, or NOT_FOUND. */
  async get(scope: Scope, id: string): Promise<SwarmNode & { cluster: SwarmCluster }> {
    const node = await scope.em.findOne(SwarmNode, id, { populate: ['cluster'] });
    if (!node) throw notFound('SwarmNode', toGlobalId('SwarmNode', id));
    return node as SwarmNode & { cluster: SwarmCluster };
  }

  /** Live `GET /nodes/{id}` on the cluster's manager. */
  async inspect(scope: Scope, node: SwarmNode): Promise<NodeInspect> {
    return this.ops.readOf(scope, node, (manager) => manager.inspectNode(node.nodeId));
  }

  async update(scope: Scope, id: string, input: NodeUpdateInput, action = 'node.update') {
    const node = await this.get(scope, id);
    const parameters = { nodeId: toGlobalId('SwarmNode', node.id), hostname: node.hostname, ...input };
    const { result, activity } = await this.ops.run(scope, node.cluster, { action, targetType: 'node', targetId: node.nodeId, parameters }, async (manager, h) => {
      if (input.role === SwarmNodeRole.WORKER) await this.refuseLastManager(manager, node.nodeId);
      const { inspect, attempts } = await updateNodeSpec(manager, node.nodeId, (spec) => ({
        ...spec,
        ...(input.availability ? { Availability: input.availability } : {}),
        ...(input.labels ? { Labels: input.labels } : {}),
        ...(input.role ? { Role: input.role } : {}),
      }));
      h.activity.result = { version: inspect.Version?.Index, attempts };
      return upsertNode(scope.em, node.cluster, inspect);
    });
    return { node: result, activity };
  }

  promote(scope: Scope, id: string) {
    return this.update(scope, id, { role: SwarmNodeRole.MANAGER }, 'node.promote');
  }

  demote(scope: Scope, id: string) {
    return this.update(scope, id, { role: SwarmNodeRole.WORKER }, 'node.demote');
  }

  async remove(scope: Scope, id: string, force: boolean) {
    const node = await this.get(scope, id);
    const parameters = { nodeId: toGlobalId('SwarmNode', node.id), hostname: node.hostname, force };
    const { activity } = await this.ops.run(scope, node.cluster, { action: 'node.remove', targetType: 'node', targetId: node.nodeId, parameters }, async (manager) => {
      const current = await manager.inspectNode(node.nodeId);
      if (current.Spec?.Role === 'manager') throw conflict(`Node "${node.hostname}" is a manager: demote it first (removing a manager from the raft group this way can cost the quorum)`);
      await manager.removeNode(node.nodeId, force);
      scope.em.remove(node);
      await scope.em.flush();
    });
    return { activity };
  }

  /** Docker refuses too, but late and vaguely; say it clearly before anything is sent. */
  private async refuseLastManager(manager: Engine, nodeId: string): Promise<void> {
    const nodes = await manager.listNodes();
    const managers = nodes.filter((n) => n.Spec?.Role === 'manager');
    const self = nodes.find((n) => n.ID === nodeId);
    if (self?.Spec?.Role === 'manager' && managers.length <= 1) {
      throw conflict(`Node "${self.Description?.Hostname ?? nodeId}" is the last manager of the swarm: it cannot be demoted (promote another node first)`, { reason: 'LAST_MANAGER' });
    }
  }
}

/**
 * Reads a node, applies `change` to its spec, sends it with the version index; retried when the
 * index went stale. Returns the new inspect and how many attempts it took.
 */
export async function updateNodeSpec(manager: Engine, nodeId: string, change: (spec: NodeSpec) => NodeSpec): Promise<{ inspect: NodeInspect; attempts: number }> {
  let attempts = 1;
  await withVersionRetry(
    async () => {
      const current = await manager.inspectNode(nodeId);
      await manager.updateNode(nodeId, versionOf(current), change(current.Spec ?? {}));
    },
    5,
    (n) => (attempts = n),
  );
  return { inspect: await manager.inspectNode(nodeId), attempts };
}
