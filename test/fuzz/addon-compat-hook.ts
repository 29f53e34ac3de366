/**
 * Preloaded (`node --import`) into the Jazzer.js child process before the fuzzer addon loads;
 * see glibc-compat.ts.
 */
import { installJazzerAddonCompat } from './glibc-compat.js';

const note = installJazzerAddonCompat();
if (process.env.SLUICE_FUZZ_VERBOSE) console.error(`INFO: ${note}`);
