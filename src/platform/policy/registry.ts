import { classifyAddress } from '../../kernel/addresses';

/**
 * Which registries the Docker daemon may be made to contact without `docker.containers.privileged`
 * (pure: no DNS). dockerd pulls and pushes from the HOST's network namespace (and every swarm node
 * pulls a service's image itself), so a registry on a loopback, link-local, private or otherwise
 * non-public address is the host's own network. Registry host NAMES are not resolved here (the
 * daemon resolves them): a public name pointing at 127.0.0.1 is not caught; `localhost` and
 * `*.localhost` are.
 */

/** The registry host of an image reference (Docker's rule: a first component with "." or ":", or localhost), lowercase, without port; null for Docker Hub. */
export function registryHost(ref: string): string | null {
  const slash = ref.indexOf('/');
  if (slash < 0) return null;
  const first = ref.slice(0, slash);
  if (!/[.:]/.test(first) && first.toLowerCase() !== 'localhost') return null;
  const bracketed = /^\[([^\]]*)\]/.exec(first);
  const host = bracketed ? bracketed[1] : first.replace(/:[^:]*$/, '');
  return host.toLowerCase().replace(/\.$/, '');
}

/**
 * Why the daemon may not contact the registry of `ref` for a caller without the permission, or
 * null: `localhost`, `*.localhost`, and IP literals (any notation) that are not public unicast.
 */
export function registryRefusal(ref: string): string | null {
  const host = registryHost(ref);
  if (host === null) return null;
  if (host === 'localhost' || host.endsWith('.localhost')) return `registry ${host} is the daemon's host (loopback)`;
  const cls = classifyAddress(host);
  if (cls && cls !== 'public') return `registry ${host} is a ${cls} address`;
  if (!cls && !/^[a-z0-9-]+(?:\.[a-z0-9-]+)*$/.test(host)) return `registry "${host}" is not a host name`;
  return null;
}
