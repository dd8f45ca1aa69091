// The POST of a job's summary to its callbackUrl, which the caller chose: it must not become a way
// into the service's own network. Redirects are never followed (a 3xx is the answer, and refuses the
// summary), and unless CALLBACK_ALLOW_PRIVATE_ADDRESSES (the local stack, on loopback) the connection
// is made only to public addresses, checked on the address the name resolved to, the one connected
// to, so a name that resolves to an internal address after the request was accepted is refused too.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { Agent, request } from 'undici'
import { inSpan, SpanKind, traceHeaders } from '../telemetry/tracing.ts'
import { Unavailable } from '../errors.ts'

/**
 * Loopback, private, link-local, shared (CGNAT), multicast and reserved ranges, IPv4 and IPv6. No
 * IPv4-mapped range here: BlockList would match it for every IPv4 address; isPublicAddress unmaps.
 */
const NOT_PUBLIC = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) NOT_PUBLIC.addSubnet(net, prefix, 'ipv4')
// IPv6: unspecified, loopback, IPv4-compatible, IPv4-translated, NAT64 (well-known and local), Teredo,
// 6to4 (each embeds an IPv4 address that may be internal), unique and site-local, link-local, multicast.
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48],
  ['2001::', 32], ['2002::', 16], ['fc00::', 7], ['fec0::', 10], ['fe80::', 10], ['ff00::', 8]
] as const) NOT_PUBLIC.addSubnet(net, prefix, 'ipv6')

/** Whether an address is one a callback may reach (IPv4-mapped IPv6 is judged as its IPv4). */
export function isPublicAddress (address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (mapped !== undefined) return !NOT_PUBLIC.check(mapped, 'ipv4')
  const family = isIP(address)
  return family !== 0 && !NOT_PUBLIC.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/** The callback was not sent, and sending it again cannot help. */
export class CallbackRefused extends Error {
  override name = 'CallbackRefused'
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/** dns.lookup that answers only public addresses (every address of the name must be public). */
function publicLookup (hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err !== null) { callback(err, []); return }
    const refused = addresses.find((a) => !isPublicAddress(a.address))
    if (refused !== undefined || addresses.length === 0) {
      callback(Object.assign(new CallbackRefused(`${hostname} resolves to an address that is not public`), { code: 'ECALLBACKREFUSED' }), [])
      return
    }
    if (options.all === true) callback(null, addresses)
    else callback(null, addresses[0]?.address ?? '', addresses[0]?.family)
  })
}

const publicOnly = new Agent({ connect: { lookup: publicLookup } })
const anyAddress = new Agent()

export interface CallbackOptions {
  /** `Authorization: Bearer` value: only the caller's own session, only to the caller's own org. */
  bearer?: string
  timeoutMs: number
  allowPrivateAddresses: boolean
}

/** POSTs the JSON body once; the target's status. Throws CallbackRefused, or Unavailable when it did not answer. */
export async function postCallback (url: string, body: object, opts: CallbackOptions): Promise<number> {
  const { hostname } = new URL(url)
  const literal = hostname.replace(/^\[|\]$/g, '')
  if (!opts.allowPrivateAddresses && isIP(literal) !== 0 && !isPublicAddress(literal)) {
    throw new CallbackRefused(`${hostname} is not a public address`)
  }
  const { origin } = new URL(url)
  try {
    // A client span, and the trace in `traceparent` (W3C Trace Context), so the receiver can join it.
    const answer = await inSpan('callback POST', { 'http.request.method': 'POST', 'server.address': origin },
      async (span) => {
        const answered = await request(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...traceHeaders(),
            ...(opts.bearer === undefined ? {} : { authorization: `Bearer ${opts.bearer}` })
          },
          body: JSON.stringify(body),
          // undici's request follows no redirect: a 3xx comes back as the answer.
          dispatcher: opts.allowPrivateAddresses ? anyAddress : publicOnly,
          signal: AbortSignal.timeout(opts.timeoutMs)
        })
        span.setAttribute('http.response.status_code', answered.statusCode)
        return answered
      }, { kind: SpanKind.CLIENT })
    await answer.body.dump()
    return answer.statusCode
  } catch (err) {
    if (err instanceof CallbackRefused) throw err
    if ((err as { cause?: unknown }).cause instanceof CallbackRefused) throw (err as { cause: CallbackRefused }).cause
    throw new Unavailable('CALLBACK_UNREACHABLE', 'The callback URL did not answer', 30, err)
  }
}
