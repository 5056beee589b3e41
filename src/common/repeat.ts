/**
 * Runs `work` at once and then every `seconds` (0: never), one run at a time: a tick that finds the
 * last run still going is skipped rather than queued. The timer does not keep the process alive;
 * `stop` clears it and waits for the run under way. `work` handles its own errors.
 */
export function repeatEvery(seconds: number, work: () => Promise<unknown>): { stop(): Promise<void> } {
  if (seconds === 0) return { stop: async () => undefined };
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return;
    running = work().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(tick, seconds * 1000);
  timer.unref();
  tick();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
