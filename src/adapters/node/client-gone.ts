/**
 * @module
 * `ConnInfo.onClientGone` for Node: the client went away if the response (an HTTP/1.1
 * ServerResponse or an HTTP/2 stream) closes before it finished.
 */
import type { ClientGone } from '../../upstream/types.ts'

interface Closable {
  readonly writableFinished: boolean
  once(event: 'close', listener: () => void): unknown
  off(event: 'close', listener: () => void): unknown
}

export function clientGoneOf(response: Closable): ClientGone {
  return (listener) => {
    const onClose = () => {
      if (!response.writableFinished) listener()
    }
    response.once('close', onClose)
    return () => response.off('close', onClose)
  }
}
