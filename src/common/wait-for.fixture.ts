/**
 * Test support shared by the unit tests beside the code and the end-to-end tests under `test/`
 * (which import from `src/`, never the other way round): polling for a condition.
 */

/**
 * Polls `cond` every `pollMs` until it holds; throws, naming `what`, once `timeoutMs` have passed
 * without it. `what` may be a function, called only for the message (e.g. to report a count as
 * it stood at the timeout).
 */
export async function waitFor(
  what: string | (() => string),
  cond: () => boolean,
  timeoutMs = 10_000,
  pollMs = 10,
): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadlineMs) {
      const label = typeof what === 'string' ? what : what();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, pollMs));
  }
}
