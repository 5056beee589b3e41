/**
 * npm run token -- --department POLICE [--region <code>] [--role OFFICER|AUDITOR|DASHBOARD|REPORTER|EMPLOYER] [--user u1] [--expires-in 3600]
 * Prints one dev token alone on stdout, signed with the secret in HUB_DATA_DIR.
 */
import { Department, isDepartment, isRole, Role } from '../auth/principal';
import { isTokenSubject, signDevToken } from '../auth/token.service';
import { isRegionCode } from '../common/validation';
import { loadConfig } from '../config/hub.config';
import { loggableSummary } from '../errors/hub.exception';
import { DEMO_ROOT_REGION } from '../subgraphs/registry/registry.constants';
import { decimalFlag, parseArgs } from './args';

async function main() {
  const { flags } = parseArgs(process.argv.slice(2), ['department', 'region', 'role', 'user', 'expires-in']);
  const config = loadConfig();
  if (config.production) throw new Error('Dev tokens are not for production: tokens come from the identity provider there');
  // The hub then checks tokens with the provider's key alone, and would refuse this one (401).
  if (config.jwt.publicKeyPem || config.jwt.jwksUrl) {
    throw new Error('the hub verifies tokens with the identity provider’s key (HUB_JWT_PUBLIC_KEY or HUB_JWKS_URL is set): unset both for dev tokens');
  }
  const department = flags.department?.toUpperCase();
  const role = (flags.role ?? Role.OFFICER).toUpperCase();
  if (!isDepartment(department)) throw new Error(`--department must be one of ${Object.values(Department).join(', ')}`);
  if (!isRole(role)) throw new Error(`--role must be one of ${Object.values(Role).join(', ')}`);
  const region = flags.region ?? DEMO_ROOT_REGION;
  if (!isRegionCode(region)) throw new Error('--region is a region code (6, 9, 12 or 15 digits)');
  // The hub would refuse such a token (401) naming no claim: say which flag is wrong instead.
  const userId = flags.user ?? `${department.toLowerCase()}-${role.toLowerCase()}-1`;
  if (!isTokenSubject(userId)) throw new Error('--user is a user id the hub accepts: 1–200 characters, no control or invisible characters, not "hub:…" or one that could pass for it');
  const expiresIn = decimalFlag(flags['expires-in'], undefined);
  if (expiresIn !== undefined && !(Number.isInteger(expiresIn) && expiresIn > 0)) throw new Error('--expires-in is a whole number of seconds above 0');
  const token = await signDevToken(config, { department, role, region, userId, expiresIn });
  process.stdout.write(token + '\n');
}

main().catch((e) => {
  console.error(`token: ${loggableSummary(e)}`);
  process.exit(2);
});
