/**
 * npm run token -- --department POLICE [--region <code>] [--role OFFICER|AUDITOR|DASHBOARD|REPORTER|EMPLOYER] [--user u1] [--expires-in 3600]
 * Prints one dev token alone on stdout, signed with the secret in HUB_DATA_DIR.
 */
import { Department, isDepartment, isRole, Role } from '../auth/principal';
import { signDevToken } from '../auth/token.service';
import { isRegionCode } from '../common/validation';
import { loadConfig } from '../config/hub.config';
import { DEMO_ROOT_REGION } from '../subgraphs/registry/registry.constants';
import { parseArgs } from './args';

async function main() {
  const { flags } = parseArgs(process.argv.slice(2), ['department', 'region', 'role', 'user', 'expires-in']);
  const config = loadConfig();
  if (config.production) throw new Error('Dev tokens are not for production: tokens come from the identity provider there');
  const department = flags.department?.toUpperCase();
  const role = (flags.role ?? Role.OFFICER).toUpperCase();
  if (!isDepartment(department)) throw new Error(`--department must be one of ${Object.values(Department).join(', ')}`);
  if (!isRole(role)) throw new Error(`--role must be one of ${Object.values(Role).join(', ')}`);
  const region = flags.region ?? DEMO_ROOT_REGION;
  if (!isRegionCode(region)) throw new Error('--region is a region code (6 to 15 digits)');
  const expiresIn = flags['expires-in'] ? Number(flags['expires-in']) : undefined;
  const token = await signDevToken(config, {
    department,
    role,
    region,
    userId: flags.user ?? `${department.toLowerCase()}-${role.toLowerCase()}-1`,
    expiresIn,
  });
  process.stdout.write(token + '\n');
}

main().catch((e) => {
  console.error(`token: ${e instanceof Error ? e.message : e}`);
  process.exit(2);
});
