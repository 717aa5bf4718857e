import { RequestTimeoutError, type TimeoutSubject } from "./errors.ts";

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

/**
 * How long before Lambda's own timeout a request gives up waiting and answers 504: room for the
 * error middlewares, the access log and the metrics flush, which a killed invocation never runs.
 */
export const REQUEST_TIMEOUT_MARGIN_MS = 500;

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One request's deadline, and what it is working on: a handler names the object or command as soon
 * as it knows it, so that a request that runs out of time can say where its outcome will show.
 */
export class RequestDeadline {
  #subject: TimeoutSubject = {};

  constructor(
    /** Epoch ms at which the request answers 504 if it has not answered. */
    readonly at: number,
  ) {}

  /** From Lambda's remaining time: the deadline is REQUEST_TIMEOUT_MARGIN_MS before the function's. */
  static fromRemaining(now: number, remainingMs: number): RequestDeadline {
    return new RequestDeadline(now + Math.max(0, remainingMs - REQUEST_TIMEOUT_MARGIN_MS));
  }

  /** Names what the request changes; later calls add to (and override) earlier ones. */
  working(subject: TimeoutSubject): void {
    this.#subject = { ...this.#subject, ...subject };
  }

  get subject(): TimeoutSubject {
    return this.#subject;
  }

  /** `work`, or a RequestTimeoutError naming the subject once the deadline passes. */
  race<T>(work: Promise<T>, now: number): Promise<T> {
    // setTimeout fires at once for a delay above 2^31-1 ms: a deadline that far is none.
    if (!(this.at - now < MAX_TIMER_MS)) return work;
    return withinTime(work, this.at - now, () => new RequestTimeoutError(this.#subject));
  }
}
