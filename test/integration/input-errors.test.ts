import { RegisterDockerHostDocument } from '../../src/generated/graphql';
import { withoutInputValues } from '../../src/kernel/errors';
import { startTestApp, TestApp } from '../support/app';
import { sql } from '../support/db';

/** Input coercion errors must not echo submitted values: they may be TLS keys or passwords. */
describe('input errors do not echo values', () => {
  let t: TestApp;
  let token: string;
  const KEY = '-----BEGIN PRIVATE KEY-----\nSUPERSECRETKEYMATERIAL\n-----END PRIVATE KEY-----';

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    token = await t.token({ account: 'input-errors', permissions: ['docker.hosts.manage'] });
  });
  afterAll(() => t?.stop());

  it('an unknown field next to a TLS key is refused without the key in the message, and nothing is written', async () => {
    const res = await t.gql(
      RegisterDockerHostDocument,
      { input: { name: 'x', apiEndpoint: 'tcp://127.0.0.1:2376', environment: 'production', tlsVerify: true, tlsCredentials: { ca: KEY, cert: KEY, key: KEY, bogus: 1 } } } as never,
      token,
    );
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/Field "bogus" is not defined/);
    expect(JSON.stringify(res)).not.toContain('SUPERSECRET');
    expect(await sql(t.databaseUrl, 'select count(*)::int as n from docker_hosts')).toEqual([{ n: 0 }]);
  });

  it('a wrongly typed value is named by its path only', async () => {
    const res = await t.gql(RegisterDockerHostDocument, { input: { name: 'x', apiEndpoint: 'unix:///x.sock', environment: 'dev', syncIntervalSeconds: 'SECRETVALUE' } } as never, token);
    expect(res.errors![0].message).toContain('"input.syncIntervalSeconds"');
    expect(JSON.stringify(res)).not.toContain('SECRETVALUE');
  });

  it('withoutInputValues keeps the reason and drops values', () => {
    expect(withoutInputValues('Variable "$in" got invalid value { a: "s; x" }; Field "b" of required type "String!" was not provided.')).toBe(
      'Variable "$in" got an invalid value; Field "b" of required type "String!" was not provided.',
    );
    expect(withoutInputValues('Expected value of type "Int!", found "abc"; Int cannot represent non-integer value: "abc"')).toBe('Expected value of type "Int!", found an invalid value');
    expect(withoutInputValues('Cannot query field "foo" on type "Query".')).toBe('Cannot query field "foo" on type "Query".');
  });
});
