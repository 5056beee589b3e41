/**
 * Minimal `--name value` (or `--name=value`) parser for the hub's command-line tools, each flag at
 * most once, taking at most `positionals` arguments of no flag. What it cannot read as asked is
 * refused, never taken for something else: `--user=ops=lead` had signed a token for `ops`, and
 * `--user --region 330102001` one for the user `--region` at the default region, a whole district.
 */
export function parseArgs(argv: string[], known: string[], positionals = 0): { flags: Record<string, string>; positional: string[] } {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      if (positional.length === positionals) throw new Error(`Unexpected argument "${a}": options are written --name value`);
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!known.includes(name)) throw new Error(`Unknown option --${name}; known: ${known.map((k) => `--${k}`).join(' ')}`);
    const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
    // An empty value (`--anchors=`, `--anchors "$UNSET"`) is no value: audit:verify took it for no flag, and verified no anchor.
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new Error(`--${name} needs a value`);
    // Given twice, either could be meant: `--region 330102001 --region 330102` signed for the whole district.
    if (Object.hasOwn(flags, name)) throw new Error(`--${name} is given twice`);
    flags[name] = value;
  }
  return { flags, positional };
}

/**
 * A number flag as written in decimal digits, else NaN for the caller's range check to refuse:
 * `Number` reads '' as 0, `0x10` as 16 and `1e3` as 1000, each a typing error taken for a value.
 */
export const decimalFlag = <T>(value: string | undefined, fallback: T): number | T =>
  value === undefined ? fallback : /^\d{1,15}$/.test(value) ? Number(value) : NaN;
