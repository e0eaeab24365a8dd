// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in generated TOML, not template mistakes
/**
 * Random gateway.toml-like documents and edits, for the tests that compare the incremental loader's
 * pieces (segments.ts, plain-toml.ts, load.ts) with smol-toml and the whole-file path.
 */

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T

const VALUES = [
  '"plain"',
  "'literal'",
  '"with \\"escape\\" and \\u0024{X}"',
  '""',
  '"""\nmulti [[routes]]\nline"""',
  "'''\n[server]\n'''",
  '42',
  '-7',
  '1_000',
  '3.5',
  'true',
  '[1, 2]',
  '[\n  "a", # comment ]\n  "b",\n]',
  '{ a = 1, "b c" = "d" }',
  '[[1], [2]]',
  '1979-05-27',
]

/** A gateway.toml-like document with the constructs the splitter must see through. */
export function randomDocument(random: () => number): string {
  const lines: string[] = []
  const statement = () => `${pick(random, ['a', 'b-c', 'x_1', '"q k"', 'd.e'])} = ${pick(random, VALUES)}`
  if (random() < 0.5) lines.push('# header comment', '[server]', 'access_log = false')
  if (random() < 0.3) lines.push('[plugins.request-id]', statement())
  const routes = 1 + Math.floor(random() * 5)
  for (let i = 0; i < routes; i++) {
    if (random() < 0.3) lines.push(`# route ${i}`, '')
    lines.push(pick(random, ['[[routes]]', '[[ routes ]]', '[["routes"]] # q']))
    lines.push(`uri = "/r${i}"`)
    for (let n = Math.floor(random() * 3); n > 0; n--) lines.push(statement())
    if (random() < 0.5)
      lines.push(`[routes.${pick(random, ['upstream', 'plugins.mocking', 'plugins.echo', 'x'])}]`)
    for (let n = Math.floor(random() * 3); n > 0; n--) lines.push(statement())
    if (random() < 0.15) lines.push('[server]', 'drain_timeout = 5')
    if (random() < 0.1) lines.push('[plugin_metadata.x]', statement())
  }
  return `${lines.join(random() < 0.2 ? '\r\n' : '\n')}\n`
}

const NOISE = [
  '"',
  "'",
  '[',
  ']',
  '{',
  '}',
  '=',
  '#',
  '\n',
  '\\',
  '.',
  ' ',
  ',',
  '"""',
  "'''",
  '[[routes]]\n',
  'x',
]

/** `text` with `count` random edits of the characters that matter to TOML's structure. */
export function mutate(text: string, random: () => number, count: number): string {
  let out = text
  for (let i = 0; i < count; i++) {
    const at = Math.floor(random() * (out.length + 1))
    const cut = random() < 0.3 ? 1 : 0
    out = out.slice(0, at) + pick(random, NOISE) + out.slice(at + cut)
  }
  return out
}

/** A valid gateway.toml (most of the time), written in the many ways TOML allows. */
export function randomGatewayToml(random: () => number): string {
  const lines: string[] = []
  const maybe = (p: number, ...more: string[]) => {
    if (random() < p) lines.push(...more)
  }
  maybe(0.3, '# a gateway', '')
  maybe(
    0.5,
    '[server]',
    pick(random, ['access_log = false', 'drain_timeout = 1_000', "listen = ['127.0.0.1:0']"]),
  )
  maybe(0.3, '[plugins.request-id]', pick(random, ['', 'header_name = "X-Id"']))
  const routes = 1 + Math.floor(random() * 6)
  for (let i = 0; i < routes; i++) {
    maybe(0.3, '', `# route ${i}`)
    lines.push(pick(random, ['[[routes]]', '  [[ routes ]] # indented']))
    maybe(0.7, `id = ${pick(random, [`"r${i}"`, `'r${i}'`, `"r\\u0030${i}"`])}`)
    lines.push(pick(random, [`uri = "/r${i}/*"`, `uris = ["/r${i}", "/s${i}/*"]`, `uri = '/r${i}'`]))
    maybe(0.3, pick(random, ['methods = ["GET", "POST"]', 'methods = [\n  "GET", # reads\n  "PUT",\n]']))
    maybe(0.2, pick(random, ['host = "a.example.com"', 'hosts = ["*.example.com"]']))
    maybe(0.2, `priority = ${pick(random, ['1', '-3', '+4', '0'])}`)
    maybe(0.3, '[routes.plugins.request-id]')
    const kind = random()
    if (kind < 0.5) {
      lines.push('[routes.upstream]')
      lines.push(
        pick(random, [
          'nodes = { "127.0.0.1:8080" = 1 }',
          'nodes = { "127.0.0.1:8080" = 1, "127.0.0.1:8081" = 2 }',
          'nodes = [{ host = "a", port = 80, weight = 1 }]',
        ]),
      )
      maybe(0.3, pick(random, ['timeout = { connect = 100 }', 'timeout.read = 5_000', 'retries = 0']))
      maybe(0.2, 'pass_host = "rewrite"', 'upstream_host = "${NAME}.internal"')
      maybe(0.2, '[routes.upstream.keepalive_pool]', 'size = 8')
    } else if (kind < 0.8) {
      lines.push('[routes.plugins.mocking]')
      lines.push(
        pick(random, [
          'body = "ok"',
          'body = """\nmulti\n[[routes]]\n"""',
          "body = '''\n[server]\n'''",
          'json = { a = [1, 2], b = { c = true } }',
          'body = "${NAME:-x}"',
        ]),
      )
      maybe(0.3, 'status = 201', 'headers = { x-a = "1" }')
    } else {
      lines.push(pick(random, ['[routes.plugins.echo]', '[routes.plugins]\necho = {}']))
    }
    maybe(0.1, '[plugin_metadata.azure-functions]', 'master_apikey = "k"')
  }
  return `${lines.join(random() < 0.2 ? '\r\n' : '\n')}\n`
}
