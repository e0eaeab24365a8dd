/**
 * @module
 * Turns off V8's allocation-site pretenuring for the gateway process (Node only).
 *
 * Why: under HTTP/2 load V8 can decide that the objects Node allocates per stream (the
 * `Http2Stream`, its Duplex state, its `respond` bookkeeping) live long, and from then on it
 * allocates them straight in the old generation. They die young all the same, but a dead object
 * in the old generation is only collected by a full GC, and until then everything young it points
 * to survives every scavenge and is promoted too. Survival stays high, so V8 keeps pretenuring:
 * the process is stuck in a mode where 90-98% of what each scavenge copies is promoted. It starts
 * whenever stream objects once survive for another reason (a large old generation such as a
 * 10,000-route config makes full GCs rare; Node's own stream Map and Set chains did it too, see
 * h2-stream-table.ts). Measured (docs/performance.md): 10,000 routes over h2c, 72-76 us -> 50 us
 * of CPU per request and 91-95% -> 0.5-0.8% promotion.
 *
 * Set at run time with `v8.setFlagsFromString`, before the config is loaded: V8 reads this flag
 * when it decides, at each GC, whether an allocation site gets pretenured, so it takes effect
 * without a command-line flag (checked with --trace-gc-nvp). SLUICE_V8_PRETENURING=1 leaves V8's
 * default.
 */
import { setFlagsFromString } from 'node:v8'

/** The V8 flags to set, if any: none outside Node (the Node adapter can run under Bun or Deno with SLUICE_ADAPTER=node). */
export function garbageCollectionFlags(
  env: Readonly<Record<string, string | undefined>>,
  runtime: { readonly bun?: unknown; readonly deno?: unknown },
): string | undefined {
  if (runtime.bun !== undefined || runtime.deno !== undefined) return undefined
  if (env.SLUICE_V8_PRETENURING === '1') return undefined
  return '--no-allocation-site-pretenuring'
}

export function tuneGarbageCollection(): void {
  const flags = garbageCollectionFlags(process.env, {
    bun: process.versions.bun,
    deno: (globalThis as { Deno?: unknown }).Deno,
  })
  if (flags === undefined) return
  try {
    setFlagsFromString(flags)
  } catch {
    // A runtime without it (some Bun versions throw ERR_NOT_IMPLEMENTED): V8's defaults stay.
  }
}
