/** Polls `check` until it holds; rejects after `ms`. */
export async function waitFor(check: () => boolean, ms = 30_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
