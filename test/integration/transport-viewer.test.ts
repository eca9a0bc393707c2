import { DockerHostsDocument, FoundationNodeDocument, RegisterDockerHostDocument, ViewerDocument } from '../../src/generated/graphql';
import { CLOSED_ENDPOINT, startTestApp, TestApp, TEST_JWT_SECRET } from '../support/app';
import { signHs256, unsignedToken } from '../support/jwks';
import { codes, transports } from '../support/transports';

/**
 * Who the caller is, over HTTP and over graphql-ws, from one definition: the same tokens give
 * the same viewer, and the same refusals give the same `extensions.code`.
 */
const now = () => Math.floor(Date.now() / 1000);

describe('viewer over every transport', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: false });
  });
  afterAll(() => t?.stop());

  for (const tr of transports) {
    describe(tr.name, () => {
      // an account per transport: nothing one transport does is seen by the other
      const account = `viewer-${tr.name}`;

      it('refuses an anonymous caller with UNAUTHENTICATED and no data', async () => {
        const res = await tr.execute(t, ViewerDocument, {});
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
        expect(res.data ?? null).toBeNull();
      });

      it("answers a token's account, user and permissions", async () => {
        const token = await t.token({ account, subject: `${account}-alice`, permissions: ['docker.hosts.manage', 'docker.logs.read'] });
        const res = await tr.execute(t, ViewerDocument, {}, token);
        expect(res.errors).toBeUndefined();
        expect(res.data?.viewer).toMatchObject({ account: { name: account }, user: { subject: `${account}-alice` } });
        expect([...res.data!.viewer.permissions].sort()).toEqual(['docker.hosts.manage', 'docker.logs.read']);
        // the ids it answers are the caller's own nodes
        const node = await tr.execute(t, FoundationNodeDocument, { id: res.data!.viewer.account.id }, token);
        expect(node).toEqual({ data: { node: { __typename: 'Account', id: res.data!.viewer.account.id, name: account } } });
        const user = await tr.execute(t, FoundationNodeDocument, { id: res.data!.viewer.user.id }, token);
        expect(user.data?.node).toMatchObject({ __typename: 'User', subject: `${account}-alice` });
      });

      it('answers each token its own viewer (no caller leaks into the next)', async () => {
        const a = await t.token({ account: `${account}-a`, permissions: [] });
        const b = await t.token({ account: `${account}-b`, permissions: ['docker.logs.read'] });
        const [ra, rb, anon] = await Promise.all([tr.execute(t, ViewerDocument, {}, a), tr.execute(t, ViewerDocument, {}, b), tr.execute(t, ViewerDocument, {})]);
        expect(ra.data?.viewer).toMatchObject({ account: { name: `${account}-a` }, permissions: [] });
        expect(rb.data?.viewer).toMatchObject({ account: { name: `${account}-b` }, permissions: ['docker.logs.read'] });
        expect(codes(anon)).toEqual(['UNAUTHENTICATED']);
        // another account's node is not visible
        const other = await tr.execute(t, FoundationNodeDocument, { id: ra.data!.viewer.account.id }, b);
        expect(other.data?.node ?? null).toBeNull();
      });

      it.each([
        ['expired', () => signHs256(TEST_JWT_SECRET, { sub: 'm', account: 'viewer-expired', permissions: [], exp: now() - 120 })],
        ['signed with another secret', () => signHs256('not-the-server-secret-0123456789-0123456789', { sub: 'm', account: 'viewer-forged', permissions: [] })],
        ['unsigned (alg:none)', async () => unsignedToken({ sub: 'm', account: 'viewer-none', permissions: [], exp: now() + 3600 })],
        ['not a JWT', async () => 'not-a-token'],
      ])('refuses a token that is %s with UNAUTHENTICATED and no data', async (_what, make) => {
        const res = await tr.execute(t, ViewerDocument, {}, await make());
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
        expect(res.data ?? null).toBeNull();
      });

      it('refuses a mutation without its permission with FORBIDDEN naming it, and stores nothing', async () => {
        const reader = await t.token({ account: `${account}-perm`, subject: 'reader', permissions: ['docker.logs.read'] });
        const res = await tr.execute(t, RegisterDockerHostDocument, { input: { name: 'no-permission', apiEndpoint: CLOSED_ENDPOINT, environment: 'development', syncIntervalSeconds: 3600 } }, reader);
        expect(codes(res)).toEqual(['FORBIDDEN']);
        expect(res.errors?.[0].extensions).toMatchObject({ permission: 'docker.hosts.manage' });
        expect(res.data ?? null).toBeNull();
        const list = await tr.execute(t, DockerHostsDocument, {}, reader);
        expect(list.data?.dockerHosts.totalCount).toBe(0);
      });
    });
  }
});
