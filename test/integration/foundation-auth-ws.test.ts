import { ViewerDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp, TEST_JWT_SECRET } from '../support/app';
import { signHs256, unsignedToken } from '../support/jwks';
import { trackedClient, wsExecute, TrackedClient } from '../support/ws-helpers';

const WS_FORBIDDEN = 4403;
const now = () => Math.floor(Date.now() / 1000);

describe('auth over graphql-ws (connection_init)', () => {
  let t: TestApp;
  const clients: TrackedClient[] = [];
  const track = (params: Record<string, unknown> | undefined, lazy = false) => {
    const c = trackedClient(t.wsUrl, params, { lazy });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.stop();
  });

  it('closes a connection_init without a token with 4403', async () => {
    const c = track(undefined);
    const closed = await c.nextClose();
    expect(closed.code).toBe(WS_FORBIDDEN);
  });

  it('closes a connection_init with an invalid (wrongly signed) token with 4403', async () => {
    const token = await signHs256('not-the-server-secret-0123456789-0123456789', { sub: 'm', account: 'ws-bad', permissions: [] });
    const c = track({ authorization: `Bearer ${token}` });
    expect((await c.nextClose()).code).toBe(WS_FORBIDDEN);
  });

  it('closes a connection_init with an alg:none token with 4403', async () => {
    const c = track({ token: unsignedToken({ sub: 'm', account: 'ws-none', permissions: [], exp: now() + 3600 }) });
    expect((await c.nextClose()).code).toBe(WS_FORBIDDEN);
  });

  it('closes a connection_init with an expired token with 4403', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'm', account: 'ws-expired', permissions: [], exp: now() - 120 });
    const c = track({ authorization: `Bearer ${token}` });
    expect((await c.nextClose()).code).toBe(WS_FORBIDDEN);
  });

  it('refuses operations on a connection that was refused (no result is delivered)', async () => {
    const c = track(undefined, true);
    const outcome = await wsExecute(c.client, ViewerDocument, {});
    expect(outcome).toMatchObject({ kind: 'closed', code: WS_FORBIDDEN });
  });

  it('answers a query over ws after a valid token in connection_init', async () => {
    const token = await t.token({ account: 'ws-ok', permissions: ['x.read'], subject: 'ws-user' });
    const c = track({ authorization: `Bearer ${token}` });
    await c.connected;
    const outcome = await wsExecute(c.client, ViewerDocument, {});
    expect(outcome.kind).toBe('result');
    if (outcome.kind !== 'result') return;
    expect(outcome.result.errors).toBeUndefined();
    expect(outcome.result.data?.viewer).toMatchObject({ account: { name: 'ws-ok' }, user: { subject: 'ws-user' }, permissions: ['x.read'] });
  });

  it('accepts the token as { token } in connection_init too', async () => {
    const token = await t.token({ account: 'ws-ok2' });
    const c = track({ token });
    await c.connected;
    const outcome = await wsExecute(c.client, ViewerDocument, {});
    expect(outcome.kind === 'result' && outcome.result.data?.viewer.account.name).toBe('ws-ok2');
  });

  it('closes the connection with 4403 when the token expires while connected, and refuses the next subscribe', async () => {
    const token = await t.token({ account: 'ws-expiring', expiresIn: '2s' });
    const c = track({ authorization: `Bearer ${token}` }, true);
    // works while the token is valid
    const first = await wsExecute(c.client, ViewerDocument, {});
    expect(first.kind === 'result' && first.result.data?.viewer.account.name).toBe('ws-expiring');

    // a second client keeps its socket open across the expiry
    const held = track({ authorization: `Bearer ${token}` });
    await held.connected;
    const closed = await held.nextClose(8_000);
    expect(closed.code).toBe(WS_FORBIDDEN);

    // after expiry, subscribing again (which reconnects with the same token) is refused
    const after = await wsExecute(c.client, ViewerDocument, {});
    expect(after).toMatchObject({ kind: 'closed', code: WS_FORBIDDEN });
  }, 20_000);
});
