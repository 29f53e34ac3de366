#!/usr/bin/env node
/**
 * The `sluice` command: servers (`start`, `namesrv`, `broker`) and operator commands. Every
 * command prints a one-line reason and exits non-zero on error.
 */
import { Command, CommanderError } from 'commander';
import { registerServerCommands } from './commands/servers.js';
import { registerStoreCommands } from './commands/store.js';
import { registerTopicCommands } from './commands/topic.js';
import { registerGroupCommands } from './commands/group.js';
import { registerBrokerStatusCommand, registerClusterCommands } from './commands/cluster.js';
import { registerMessageCommands } from './commands/message.js';
import { registerBenchCommands } from './commands/bench.js';
import { SluiceError } from '../common/errors.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sluice')
    .description(
      "Sluice: a persistent message broker on RocketMQ's storage design, wire-compatible with RocketMQ clients.",
    )
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions()
    .exitOverride();
  registerServerCommands(program);
  registerStoreCommands(program);
  registerTopicCommands(program);
  registerGroupCommands(program);
  registerClusterCommands(program);
  const broker = program.commands.find((c) => c.name() === 'broker');
  if (broker) registerBrokerStatusCommand(broker.enablePositionalOptions());
  registerMessageCommands(program);
  registerBenchCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const message =
      error instanceof SluiceError ? `${error.code}: ${error.message}` : (error as Error).message;
    process.stderr.write(`sluice: ${message}\n`);
    process.exitCode = 1;
  }
}

// `sluice … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

void main(process.argv);
