/**
 * @module
 * `ConnInfo.onClientGone` for Node's HTTP/2 streams: the client went away if the stream closes
 * before its response finished. (HTTP/1.1 connections track this themselves: h1-connection.ts.)
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
