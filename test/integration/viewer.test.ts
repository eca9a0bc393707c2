import { ViewerDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp } from '../support/app';

describe('viewer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.stop());

  it('answers the viewer with account and permissions from the token', async () => {
    const token = await t.token({ account: 'acme', permissions: ['docker.hosts.manage'] });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer.account.name).toBe('acme');
    expect(res.data?.viewer.permissions).toEqual(['docker.hosts.manage']);
    expect(res.data?.viewer.user.subject).toBe('acme-user');
  });

  it('refuses a query without a token with UNAUTHENTICATED', async () => {
    const res = await t.gql(ViewerDocument, {});
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data).toBeNull();
  });
});
