import { createRemoteJWKSet, jwtVerify, JWTPayload, SignJWT, errors as joseErrors } from 'jose';
import { Config } from '../kernel/config';
import { CONTROL_CHARS, unauthenticated } from '../kernel/errors';

import type { Principal } from '../graphql/context';

export type { Principal };

export { PERMISSIONS } from '../kernel/permissions';

export const ACCOUNT_CLAIM = 'account';
export const PERMISSIONS_CLAIM = 'permissions';

/** Seconds of clock skew accepted on exp, nbf and iat. */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** Bounds on claims: they become account and user rows and log fields. */
export const MAX_CLAIM_LENGTH = 200;
export const MAX_PERMISSIONS = 100;
export const MAX_PERMISSION_LENGTH = 100;

const HMAC_ALGORITHMS = ['HS256'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'];

export type TokenVerifier = (token: string) => Promise<Principal>;

export function createTokenVerifier(config: Config['jwt']): TokenVerifier {
  const secret = config.secret ? new TextEncoder().encode(config.secret) : undefined;
  const jwks = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : undefined;
  // exp is required; jose checks exp and nbf, principalFromClaims the lifetime and iat.
  const common = { issuer: config.issuer, audience: config.audience, clockTolerance: CLOCK_TOLERANCE_SECONDS, requiredClaims: ['exp'] };

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
    return principalFromClaims(payload, config.maxLifetimeSeconds);
  };
}

/** Whether a claim is a usable identifier: a non-empty bounded string without control characters. */
function isClaimString(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength && !CONTROL_CHARS.test(value);
}

/**
 * Reads a verified payload: exp is required and at most `maxLifetimeSeconds` after iat (or now, when
 * the token has no iat); iat may not be in the future; sub, account and permissions are bounded
 * strings without control characters.
 */
export function principalFromClaims(payload: JWTPayload, maxLifetimeSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): Principal {
  const { exp, iat } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw unauthenticated('Token has no expiry (exp)');
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat) || iat > nowSeconds + CLOCK_TOLERANCE_SECONDS)) throw unauthenticated('Token claim "iat" is invalid');
  if (exp - (iat ?? nowSeconds) > maxLifetimeSeconds) throw unauthenticated(`Token lifetime exceeds the maximum of ${maxLifetimeSeconds} seconds`);
  const account = payload[ACCOUNT_CLAIM];
  const permissions = payload[PERMISSIONS_CLAIM] ?? [];
  if (!isClaimString(payload.sub, MAX_CLAIM_LENGTH)) throw unauthenticated(`Token subject (sub) must be 1–${MAX_CLAIM_LENGTH} printable characters`);
  if (!isClaimString(account, MAX_CLAIM_LENGTH)) throw unauthenticated(`Token account claim must be 1–${MAX_CLAIM_LENGTH} printable characters`);
  if (!Array.isArray(permissions) || permissions.length > MAX_PERMISSIONS || !permissions.every((p) => isClaimString(p, MAX_PERMISSION_LENGTH))) {
    throw unauthenticated(`Token permissions claim must be an array of at most ${MAX_PERMISSIONS} strings of 1–${MAX_PERMISSION_LENGTH} printable characters`);
  }
  return { subject: payload.sub, account, permissions: permissions as string[], expiresAt: exp };
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
  return principal.expiresAt <= nowSeconds;
}

/**
 * Signs an HS256 development token (npm run token, tests). `expiresIn` is a jose duration ("12h",
 * default) or an absolute exp in seconds since epoch; keep it within FLEETGRAPH_JWT_MAX_LIFETIME.
 */
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
