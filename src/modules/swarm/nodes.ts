import type Docker from 'dockerode';
import { SwarmCluster, SwarmNode, SwarmNodeAvailability, SwarmNodeRole } from '../../../entities';
import { conflict, notFound } from '../../kernel/errors';
import { expectGlobalId } from '../../graphql/relay';
import type { Context } from '../../graphql/context';
import { withVersionRetry } from './docker';
import { clusterOperation, clusterRead } from './operation';
import { upsertNode } from './sync';

export interface NodeUpdateInput {
  availability?: SwarmNodeAvailability;
  /** Replaces all labels. */
  labels?: Record<string, string>;
  role?: SwarmNodeRole;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/**
 * Node operations through the cluster's manager. Every update reads the node's Version.Index,
 * sends it with the full spec, and retries on "update out of sequence".
 */
export class NodeManager {
  /** A stored node of the caller's account by global id, with its cluster. */
  async get(ctx: Context, globalId: string, field = 'nodeId'): Promise<SwarmNode & { cluster: SwarmCluster }> {
    const id = expectGlobalId(globalId, 'SwarmNode', field);
    const node = await ctx.em.findOne(SwarmNode, id, { populate: ['cluster'] });
    if (!node) throw notFound('SwarmNode', globalId);
    return node as SwarmNode & { cluster: SwarmCluster };
  }

  inspect(ctx: Context, node: SwarmNode & { cluster: SwarmCluster }): Promise<Obj> {
    return clusterRead(ctx, node.cluster, (api) => api.getNode(node.nodeId).inspect());
  }

  async update(ctx: Context, globalId: string, input: NodeUpdateInput, action = 'node.update') {
    const node = await this.get(ctx, globalId);
    const { result, activity } = await clusterOperation(ctx, node.cluster, { action, targetType: 'node', targetId: node.nodeId, parameters: { nodeId: globalId, hostname: node.hostname, ...input } }, async (api, h) => {
      if (input.role === SwarmNodeRole.WORKER) await this.refuseLastManager(api, node.nodeId);
      const { inspect, attempts } = await updateNodeSpec(api, node.nodeId, (spec) => ({
        ...spec,
        ...(input.availability ? { Availability: input.availability } : {}),
        ...(input.labels ? { Labels: input.labels } : {}),
        ...(input.role ? { Role: input.role } : {}),
      }));
      h.activity.result = { version: inspect.Version?.Index, attempts };
      return upsertNode(ctx.em, node.cluster, inspect);
    });
    return { node: result, activity };
  }

  promote(ctx: Context, globalId: string) {
    return this.update(ctx, globalId, { role: SwarmNodeRole.MANAGER }, 'node.promote');
  }

  demote(ctx: Context, globalId: string) {
    return this.update(ctx, globalId, { role: SwarmNodeRole.WORKER }, 'node.demote');
  }

  async remove(ctx: Context, globalId: string, force: boolean) {
    const node = await this.get(ctx, globalId);
    const { activity } = await clusterOperation(ctx, node.cluster, { action: 'node.remove', targetType: 'node', targetId: node.nodeId, parameters: { nodeId: globalId, hostname: node.hostname, force } }, async (api) => {
      const current = (await api.getNode(node.nodeId).inspect()) as Obj;
      if (current.Spec?.Role === 'manager') throw conflict(`Node "${node.hostname}" is a manager: demote it first (removing a manager from the raft group this way can cost the quorum)`);
      await api.getNode(node.nodeId).remove({ force } as never);
      ctx.em.remove(node);
      await ctx.em.flush();
    });
    return { removedId: globalId, activity };
  }

  /** Docker refuses too, but late and vaguely; say it clearly before anything is sent. */
  private async refuseLastManager(api: Docker, nodeId: string): Promise<void> {
    const nodes = (await api.listNodes()) as Obj[];
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
export async function updateNodeSpec(api: Docker, nodeId: string, change: (spec: Obj) => Obj): Promise<{ inspect: Obj; attempts: number }> {
  let attempts = 1;
  await withVersionRetry(
    async () => {
      const current = (await api.getNode(nodeId).inspect()) as Obj;
      await api.getNode(nodeId).update({ _query: { version: current.Version.Index }, _body: change(current.Spec ?? {}) } as never);
    },
    5,
    (n) => (attempts = n),
  );
  return { inspect: (await api.getNode(nodeId).inspect()) as Obj, attempts };
}
