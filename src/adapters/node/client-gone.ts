/**
 * @module
 * `ConnInfo.onClientGone` for Node's HTTP/2 streams: the client went away if the stream closes
 * before its response finished. (HTTP/1.1 connections track this themselves: h1-connection.ts.)
 */
import type { ClientGone } from '../../upstream/types.ts'

interface Closable {
  readonly writableFinished: boolean
  /** HTTP/2: the stream was reset or its session destroyed before it ended normally. */
  readonly aborted?: boolean
  /** HTTP/2: the RST_STREAM code the stream closed with (0: NO_ERROR). */
  readonly rstCode?: number
  once(event: 'close', listener: () => void): unknown
  off(event: 'close', listener: () => void): unknown
}

export function clientGoneOf(response: Closable): ClientGone {
  return (listener) => {
    // A stream the client reset reads as writableFinished (Node marks a destroyed stream's
    // writable side finished): the reset itself says the client left.
    const onClose = () => {
      if (response.aborted || (response.rstCode ?? 0) !== 0 || !response.writableFinished) listener()
    }
    response.once('close', onClose)
    return () => response.off('close', onClose)
  }
}
