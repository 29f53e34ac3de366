/**
 * What the operator commands share: the `--namesrv` / `--json` options, an {@link Admin} that is
 * always shut down, aligned tables for people and JSON for scripts, and time parsing for
 * `--to` / `--since`.
 */
import type { Command } from 'commander';
import { Admin } from '../../client/admin.js';
import { SluiceError } from '../../common/errors.js';

/** Default name server: `SLUICE_NAMESRV`, else 127.0.0.1:9876. */
export function defaultNamesrv(): string {
  return process.env.SLUICE_NAMESRV ?? '127.0.0.1:9876';
}

/** Options every operator command takes. */
export interface CommonFlags {
  namesrv: string;
  json?: boolean;
}

/** Adds `--namesrv`, `--json` and an example to a command. */
export function operatorCommand(command: Command, example: string): Command {
  return command
    .option(
      '-n, --namesrv <addresses>',
      'name server(s), host:port separated by ; (env SLUICE_NAMESRV)',
      defaultNamesrv(),
    )
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', `\nExample:\n  $ ${example}`);
}

/** Runs `fn` with an Admin connected to `namesrv`, shutting it down afterwards. */
export async function withAdmin<T>(namesrv: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ nameServer: namesrv, onError: () => undefined });
  try {
    return await fn(admin);
  } finally {
    await admin.shutdown();
  }
}

/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Prints JSON (pretty) on stdout. */
export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Prints an aligned table; numbers are right-aligned. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'),
  );
  const line = (r: string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  out(line(headers));
  for (const r of cells) out(line(r));
  if (rows.length === 0) out('(none)');
}

/** Prints `key: value` lines. */
export function printFields(fields: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  for (const [k, v] of Object.entries(fields)) out(`${`${k}:`.padEnd(width + 1)} ${String(v)}`);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A point in time: epoch ms (`1700000000000`), an ISO date (`2024-05-01T10:00:00Z`), `now`,
 * or a duration ago (`10m`, `2h`, `1d`, `30s`).
 */
export function parseTime(text: string, optionName: string, nowMs = Date.now()): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  if (/^\d{11,}$/.test(t)) return Number(t);
  const rel = /^-?(\d+(?:\.\d+)?)([smhd])$/.exec(t);
  if (rel) return Math.round(nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!);
  const parsed = Date.parse(t);
  if (Number.isFinite(parsed)) return parsed;
  throw new SluiceError(
    'INVALID_ARGUMENT',
    `${optionName} "${text}" is not a time: use epoch ms, an ISO date, "now" or a duration ago like 10m, 2h, 1d`,
  );
}

/** A positive integer option. */
export function parseCount(text: string | undefined, optionName: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `${optionName} must be a positive integer, got "${text}"`,
    );
  }
  return n;
}

/** Epoch ms → ISO text ("-" for 0). */
export function iso(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '-';
}
