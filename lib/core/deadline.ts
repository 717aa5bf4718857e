/**
 * `work`, or `late()`'s error once `ms` of real time have passed (Lambda's timeout is real time
 * too); the timer is cleared either way. `work` itself goes on: only the wait for it ends.
 */
export async function withinTime<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
