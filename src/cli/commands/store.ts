/**
 * `sluice store check <dir> [--repair] [--json]`: offline consistency check of a store folder
 * (see `src/store/store-check.ts`). Exit code 0 when no errors are found (warnings allowed),
 * 1 when errors remain, 2 when the check could not run.
 */
import type { Command } from 'commander';
import {
  checkStore,
  repairStore,
  type StoreCheckReport,
  type StoreRepairResult,
} from '../../store/store-check.js';

interface CheckFlags {
  repair?: boolean;
  json?: boolean;
  maxIssues?: string;
  crc?: boolean;
  cqEntries?: string;
  indexSlots?: string;
}

function printReport(r: StoreCheckReport): void {
  const out = process.stdout;
  out.write(`store ${r.storePath}\n`);
  out.write(
    `  commitlog: ${r.segments} segment(s) of ${r.segmentSizeBytes} bytes, ${r.records} records, offsets ${r.logMinOffset}..${r.logEndOffset}\n`,
  );
  out.write(`  consumequeue: ${r.queues} queue(s), ${r.consumeQueueEntries} entries\n`);
  out.write(`  index: ${r.indexFiles} file(s), ${r.indexEntries} entries\n`);
  for (const i of r.issues) {
    out.write(`  ${i.severity.toUpperCase()} ${i.area} ${i.file} @${i.offset}: ${i.message}\n`);
  }
  const shown = r.issues.length < r.errors + r.warnings ? ` (first ${r.issues.length} shown)` : '';
  out.write(`${r.ok ? 'OK' : 'FAILED'}: ${r.errors} error(s), ${r.warnings} warning(s)${shown}\n`);
}

/** Registers `sluice store check`. */
export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('offline tools for a store folder');
  store
    .command('check <dir>')
    .description(
      'verify CommitLog records (layout, CRC), ConsumeQueue and IndexFile entries against the log; the broker must be stopped for --repair',
    )
    .option('--repair', 'rebuild ConsumeQueues and IndexFiles from the CommitLog, then check again')
    .option('--json', 'print the report as JSON')
    .option('--max-issues <n>', 'findings to list (all are counted)', '200')
    .option('--no-crc', 'skip body CRC verification (faster)')
    .option(
      '--index-slots <n>',
      "hash slots per IndexFile, as the broker's store uses (default 5000000)",
    )
    .option('--cq-entries <n>', 'entries per ConsumeQueue file for --repair (default: inferred)')
    .action(async (dir: string, flags: CheckFlags) => {
      const indexMaxHashSlots =
        flags.indexSlots === undefined ? undefined : Number(flags.indexSlots);
      const options = {
        maxIssues: Number(flags.maxIssues ?? 200),
        verifyCrc: flags.crc !== false,
        indexMaxHashSlots,
      };
      let report = checkStore(dir, options);
      let repaired: StoreRepairResult | undefined;
      if (flags.repair) {
        const before = report;
        repaired = await repairStore(dir, {
          indexMaxHashSlots,
          consumeQueueEntriesPerFile:
            flags.cqEntries === undefined ? undefined : Number(flags.cqEntries),
        });
        report = checkStore(dir, options);
        if (!flags.json) {
          process.stdout.write(
            `before repair: ${before.errors} error(s), ${before.warnings} warning(s)\n` +
              `repaired: re-dispatched ${repaired.recordsRedispatched} records up to ${repaired.logEndOffset}; old files in ${repaired.backupDir}\n`,
          );
        }
      }
      if (flags.json) process.stdout.write(`${JSON.stringify({ ...report, repaired }, null, 2)}\n`);
      else printReport(report);
      process.exitCode = report.ok ? 0 : 1;
    });
}
