/** Minimal `--name value` parser for the hub's command-line tools. */
export function parseArgs(argv: string[], known: string[]): { flags: Record<string, string>; positional: string[] } {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2);
    if (!known.includes(name)) throw new Error(`Unknown option --${name}; known: ${known.map((k) => `--${k}`).join(' ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
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
