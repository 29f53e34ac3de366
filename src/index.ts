/**
 * Sluice's package root: the client SDK and the shared error type. Servers are started with the
 * `sluice` command (see `src/cli`).
 */
export { SluiceError } from './common/errors.js';
export type { SluiceErrorCode } from './common/errors.js';
