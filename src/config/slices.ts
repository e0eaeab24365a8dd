/**
 * @module
 * Cooperative time slicing for long synchronous work (loading and compiling a big config): the
 * work is a generator that yields at points where it may pause; `runToEnd` runs it in one go,
 * `runSliced` gives the event loop a turn whenever a slice has taken `sliceMs`, so requests keep
 * being served while a reload is prepared. Pausing changes nothing but timing: the work sees no
 * other state than its inputs.
 */

/** Work that yields (`undefined`) where it may pause and returns its result. */
export type Steps<T> = Generator<void, T, void>

/** About the longest the event loop waits for a reload's work, per slice. */
export const DEFAULT_SLICE_MS = 4

export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

export async function runSliced<T>(steps: Steps<T>, sliceMs = DEFAULT_SLICE_MS): Promise<T> {
  let started = performance.now()
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
    if (performance.now() - started >= sliceMs) {
      await nextTurn()
      started = performance.now()
    }
  }
}

/** Resolves after the event loop has had a turn (timers and I/O callbacks that were due ran). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}
