/** Opaque global ids: base64url("Type:uuid"). Decoding (with input checks) is the GraphQL edge's: src/graphql/relay.ts. */
export function toGlobalId(type: string, id: string): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
}
