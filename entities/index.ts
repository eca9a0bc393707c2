import { Account } from './account.entity';
import { User } from './user.entity';

export { Node } from './node';
export { AccountOwned } from './account-owned';
export { Account, User };

/** Every MikroORM entity, registered with the ORM and with `node(id:)`. */
export const ENTITIES = [Account, User];
