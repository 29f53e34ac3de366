/**
 * A small leveled logger writing one line per event to stderr: `time level [component] message`.
 * The level comes from `SLUICE_LOG_LEVEL` (debug, info, warn, error, silent; default info).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function levelFromEnv(): LogLevel {
  const raw = (process.env.SLUICE_LOG_LEVEL ?? 'info').toLowerCase();
  return raw in ORDER ? (raw as LogLevel) : 'info';
}

let threshold = ORDER[levelFromEnv()];

/** Changes the process-wide level (e.g. from a CLI flag). */
export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

function write(level: LogLevel, component: string, message: string): void {
  if (ORDER[level] < threshold) return;
  process.stderr.write(
    `${new Date().toISOString()} ${level.toUpperCase()} [${component}] ${message}\n`,
  );
}

/** A logger whose lines are tagged with `component` (e.g. 'broker', 'store'). */
export function createLogger(component: string): Logger {
  return {
    debug: (message) => write('debug', component, message),
    info: (message) => write('info', component, message),
    warn: (message) => write('warn', component, message),
    error: (message, error) =>
      write(
        'error',
        component,
        error === undefined
          ? message
          : `${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      ),
  };
}
