import { createRemoteJWKSet, jwtVerify, JWTPayload, SignJWT, errors as joseErrors } from 'jose';
import { Config } from '../config';
import { unauthenticated } from '../errors';

/** Who is calling, as read from a verified JWT. */
export interface Principal {
  subject: string;
  /** The account's external key (the `account` claim). */
  account: string;
  permissions: string[];
  /** Seconds since epoch; re-checked on every WebSocket subscribe. */
  expiresAt?: number;
}

/** Permissions the API knows; documented in the README. */
export const PERMISSIONS = {
  hostsManage: 'docker.hosts.manage',
  resourcesManage: 'docker.resources.manage',
  containersPrivileged: 'docker.containers.privileged',
  containersExec: 'docker.containers.exec',
  logsRead: 'docker.logs.read',
  clustersManage: 'swarm.clusters.manage',
  secretsManage: 'swarm.secrets.manage',
} as const;

export const ACCOUNT_CLAIM = 'account';
export const PERMISSIONS_CLAIM = 'permissions';

const HMAC_ALGORITHMS = ['HS256'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'];

export type TokenVerifier = (token: string) => Promise<Principal>;

export function createTokenVerifier(config: Config['jwt']): TokenVerifier {
  const secret = config.secret ? new TextEncoder().encode(config.secret) : undefined;
  const jwks = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : undefined;
  const common = { issuer: config.issuer, audience: config.audience, clockTolerance: 5 };

  return async (token: string) => {
    let payload: JWTPayload;
    try {
      if (jwks) {
        ({ payload } = await jwtVerify(token, jwks, { ...common, algorithms: ASYMMETRIC_ALGORITHMS }));
      } else {
        ({ payload } = await jwtVerify(token, secret!, { ...common, algorithms: HMAC_ALGORITHMS }));
      }
    } catch (err) {
      throw unauthenticated(describeJoseError(err));
    }
    return principalFromClaims(payload);
  };
}

export function principalFromClaims(payload: JWTPayload): Principal {
  const account = payload[ACCOUNT_CLAIM];
  const permissions = payload[PERMISSIONS_CLAIM] ?? [];
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw unauthenticated('Token has no subject');
  if (typeof account !== 'string' || account.length === 0 || account.length > 200) throw unauthenticated('Token has no account claim');
  if (!Array.isArray(permissions) || permissions.some((p) => typeof p !== 'string')) {
    throw unauthenticated('Token permissions claim must be an array of strings');
  }
  return { subject: payload.sub, account, permissions: permissions as string[], expiresAt: payload.exp };
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'Token has expired';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'Token algorithm is not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'Token signature is invalid';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `Token claim "${err.claim}" is invalid`;
  return 'Token is invalid';
}

/** Reads `Bearer <token>`; returns undefined when there is no header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
  return match[1];
}

export function isExpired(principal: Principal, nowSeconds = Date.now() / 1000): boolean {
  return principal.expiresAt !== undefined && principal.expiresAt <= nowSeconds;
}

/** Signs an HS256 development token (npm run token, tests). */
export async function signDevToken(
  secret: string,
  claims: { subject: string; account: string; permissions: string[]; expiresIn?: string | number; issuer?: string; audience?: string },
): Promise<string> {
  let jwt = new SignJWT({ [ACCOUNT_CLAIM]: claims.account, [PERMISSIONS_CLAIM]: claims.permissions })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '12h');
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
