import { registerEnumType } from 'type-graphql';

export enum SwarmNodeRole {
  MANAGER = 'manager',
  WORKER = 'worker',
}
registerEnumType(SwarmNodeRole, { name: 'SwarmNodeRole' });

export enum SwarmNodeAvailability {
  ACTIVE = 'active',
  PAUSE = 'pause',
  DRAIN = 'drain',
}
registerEnumType(SwarmNodeAvailability, {
  name: 'SwarmNodeAvailability',
  valuesConfig: {
    ACTIVE: { description: 'The scheduler may place new tasks on the node.' },
    PAUSE: { description: 'No new tasks; existing tasks keep running.' },
    DRAIN: { description: 'No new tasks; the tasks of services are moved to other nodes (standalone containers are not touched).' },
  },
});

export enum SwarmServiceMode {
  REPLICATED = 'replicated',
  GLOBAL = 'global',
}
registerEnumType(SwarmServiceMode, { name: 'SwarmServiceMode' });

export enum SecretKind {
  SECRET = 'secret',
  CONFIG = 'config',
}
registerEnumType(SecretKind, { name: 'SecretKind' });
