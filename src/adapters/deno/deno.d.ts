/**
 * The few Deno APIs the Deno adapter uses, declared here instead of pulling Deno's whole lib
 * (which clashes with the DOM and Node typings the rest of the project compiles against).
 * Checked against Deno 2.9 at runtime by the conformance suite (SLUICE_TARGET=deno).
 */
declare namespace Deno {
  interface NetAddr {
    transport: 'tcp' | 'udp'
    hostname: string
    port: number
  }
  interface ServeHandlerInfo {
    remoteAddr: NetAddr
  }
  interface ServeOptions {
    hostname?: string
    port?: number
    cert?: string
    key?: string
    onListen?: (addr: NetAddr) => void
  }
  interface HttpServer {
    readonly addr: NetAddr
    readonly finished: Promise<void>
    shutdown(): Promise<void>
  }
  function serve(
    options: ServeOptions,
    handler: (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>,
  ): HttpServer
  const version: { deno: string }
}
