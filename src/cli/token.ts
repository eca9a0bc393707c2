import { parseDurationSeconds } from '../kernel/config';
import { loadConfig } from '../app/config';
import { signDevToken } from '../server/auth';

/**
 * npm run token -- --account <name> [--permissions a,b] [--subject s] [--expires 12h]
 * Prints a signed HS256 development token (FLEETGRAPH_JWT_SECRET) as the last line. --expires
 * (seconds, or 30m, 12h, 1d) may not exceed FLEETGRAPH_JWT_MAX_LIFETIME (default 24h): the API
 * refuses longer-lived tokens.
 */
async function main(): Promise<void> {
  const args = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [k, inline] = a.slice(2).split('=', 2);
    args.set(k, inline ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : ''));
  }
  const account = args.get('account');
  if (!account) {
    console.error('usage: npm run token -- --account <name> [--permissions a,b] [--subject <sub>] [--expires 12h]');
    process.exit(2);
  }
  const config = loadConfig();
  if (!config.jwt.secret) {
    console.error('FLEETGRAPH_JWT_SECRET is not set (tokens for a JWKS setup come from your identity provider)');
    process.exit(2);
  }
  let lifetime: number;
  try {
    lifetime = parseDurationSeconds(args.get('expires') || '12h', '--expires');
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if (lifetime > config.jwt.maxLifetimeSeconds) {
    console.error(`--expires must be at most ${config.jwt.maxLifetimeSeconds} seconds (FLEETGRAPH_JWT_MAX_LIFETIME); the API refuses longer-lived tokens`);
    process.exit(2);
  }
  const permissions = (args.get('permissions') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const subject = args.get('subject') || `${account}-developer`;
  const token = await signDevToken(config.jwt.secret, {
    subject,
    account,
    permissions,
    expiresIn: `${lifetime}s`,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
  console.error(`token for subject "${subject}" in account "${account}" with permissions [${permissions.join(', ')}]:`);
  console.log(token);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
