/** Polls `check` until it holds; rejects after `ms`. */
export async function waitFor(check: () => boolean, ms = 30_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls an async or sync `cond` until it holds; rejects after `timeoutMs`, naming `what`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
