/**
 * @module
 * The Node logger: readable lines on stderr, JSON access lines on stdout. Access lines are
 * batched and written once per event-loop turn: one write per burst instead of one per request.
 */
import type { Logger } from '../core/logger.ts'

export function createProcessLogger(): Logger & { flush(): void } {
  let pending: string[] = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (pending.length === 0) return
    const chunk = `${pending.join('\n')}\n`
    pending = []
    process.stdout.write(chunk)
  }
  const line = (level: string, message: string) => process.stderr.write(`sluice ${level}: ${message}\n`)
  return {
    info: (message) => line('info', message),
    warn: (message) => line('warn', message),
    error: (message) => line('error', message),
    access(json) {
      pending.push(json)
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    flush,
  }
}
