/** A promise the test resolves: the controllable part of a fake port or cycle. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Resolves after pending promise callbacks and a few real I/O turns have run (no timers). */
export async function flushTurns(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Whether `p` has settled yet, without waiting for it beyond a few turns. */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await flushTurns();
  return done;
}
