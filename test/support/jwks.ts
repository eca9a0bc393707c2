import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, JWK, KeyLike } from 'jose';

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

export async function makeSigningKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

/** A JWKS endpoint on 127.0.0.1 serving the public halves of `keys`. */
export async function startJwksServer(keys: SigningKey[]): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Claims {
  sub?: string;
  account?: unknown;
  permissions?: unknown;
  iss?: string;
  aud?: string;
  /** seconds since epoch; default now + 1h */
  exp?: number;
}

/** Signs a JWT with an asymmetric key (kid in the header). */
export async function signWith(key: SigningKey, claims: Claims, header: { alg?: string; kid?: string } = {}): Promise<string> {
  const { sub, exp, iss, aud, ...rest } = claims;
  let jwt = new SignJWT(rest as Record<string, unknown>)
    .setProtectedHeader({ alg: header.alg ?? key.alg, kid: header.kid ?? key.kid, typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(exp ?? Math.floor(Date.now() / 1000) + 3600);
  if (sub !== undefined) jwt = jwt.setSubject(sub);
  if (iss) jwt = jwt.setIssuer(iss);
  if (aud) jwt = jwt.setAudience(aud);
  return jwt.sign(key.privateKey);
}

/** Signs an HS256 JWT with `secret`, with full control over the claims (no defaults but iat). */
export async function signHs256(secret: string, claims: Claims): Promise<string> {
  const { sub, exp, iss, aud, ...rest } = claims;
  let jwt = new SignJWT(rest as Record<string, unknown>).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  jwt = jwt.setExpirationTime(exp ?? Math.floor(Date.now() / 1000) + 3600);
  if (sub !== undefined) jwt = jwt.setSubject(sub);
  if (iss) jwt = jwt.setIssuer(iss);
  if (aud) jwt = jwt.setAudience(aud);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`), as an attacker would forge it. */
export function unsignedToken(payload: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}
