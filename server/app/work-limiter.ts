/**
 * A bound on the slow work one process does at once (bcrypt): a few turns
 * run, a short queue waits, and whatever comes past the queue is refused at
 * once with a `ServerBusyError` instead of waiting behind a flood. A refused
 * request costs nothing but the refusal, and the work that is admitted
 * finishes in about the time it takes when the process is idle, plus at most
 * the queue ahead of it.
 */
import { availableParallelism } from 'node:os';
import { ServerBusyError } from './errors.js';

/** How much work runs at once, and how much may wait. */
export interface WorkLimits {
  /** Turns that run at once. Default: the number of CPUs (bcrypt runs one per libuv thread). */
  concurrency: number;
  /** Turns that may wait for a running one to end; past this, `ServerBusyError`. Default: twice `concurrency`. */
  queue: number;
}

/** What a busy process tells a client to wait, in seconds: a bcrypt turn is a fraction of one. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** The limits of a process with `cpus` CPUs. */
export function defaultWorkLimits(cpus = availableParallelism()): WorkLimits {
  const concurrency = Math.max(1, cpus);
  return { concurrency, queue: 2 * concurrency };
}

/** Runs work under `WorkLimits`. */
export class WorkLimiter {
  readonly #limits: WorkLimits;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limits: Partial<WorkLimits> = {}) {
    this.#limits = { ...defaultWorkLimits(), ...limits };
    if (!(this.#limits.concurrency >= 1) || !(this.#limits.queue >= 0)) throw new TypeError('WorkLimiter needs concurrency >= 1 and queue >= 0');
  }

  /** Turns running now, and turns waiting for one: what the metrics show of the work in hand. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  /** The limits in force. */
  get limits(): Readonly<WorkLimits> {
    return this.#limits;
  }

  /** Whether a turn asked for now would be refused. For a caller that must know before it commits to the work. */
  get full(): boolean {
    return this.#running >= this.#limits.concurrency && this.#waiting.length >= this.#limits.queue;
  }

  /**
   * Runs `work` when a turn is free, or throws `ServerBusyError` at once when
   * every turn runs and the queue is full.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limits.concurrency) {
      if (this.#waiting.length >= this.#limits.queue) throw new ServerBusyError(BUSY_RETRY_AFTER_SECONDS);
      // The turn is handed over by `#leave`, which keeps `#running` as it is for the waiter.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      this.#leave();
    }
  }

  #leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
