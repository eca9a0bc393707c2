export { AccountDirectory } from './accounts';
export type { Identity, Membership } from './accounts';
