// DNS rebinding: MCP specification, "Transports", Streamable HTTP, Security Warning: "Servers MUST
// validate the Origin header on all incoming connections to prevent DNS rebinding attacks. If the
// Origin header is present and invalid, servers MUST respond with HTTP 403 Forbidden." A rebound page
// also names its own host in Host, so the Host header is checked too (MCP_ALLOWED_HOSTS).
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'

/** Why a request is refused, or undefined when its Host and Origin are allowed. */
export type HostCheck = (request: FastifyRequest) => string | undefined

/** The host name of a Host header (`example.com:3000` → `example.com`, `[::1]:3000` → `[::1]`), lower case. */
function hostName (host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0] ?? ''
  return name.toLowerCase()
}

export function hostCheck (config: Config): HostCheck {
  const hosts = new Set(config.MCP_ALLOWED_HOSTS.split(',').map((h) => h.trim().toLowerCase()))
  const origins = new Set((config.MCP_ALLOWED_ORIGINS ?? '').split(',').filter((o) => o !== '').map((o) => o.toLowerCase()))
  return (request) => {
    const host = request.headers.host ?? ''
    if (!hosts.has(hostName(host))) return `Host ${host === '' ? '(none)' : host} is not one this server answers to`
    const origin = request.headers.origin
    // No Origin: not a browser page, so no rebinding (non-browser MCP clients send none).
    if (origin === undefined || origins.has(origin.toLowerCase())) return undefined
    // A page of a host this server answers to, on any port, as the Host check takes them: a rebound
    // page's origin names the attacker's host. Any port, because a proxy in front (TLS, a local
    // tunnel) answers on another port than the service's own. Inferred from the MCP TypeScript SDK's
    // localhost protection (GHSA-w48q-cv73-mx4w), which accepts localhost "with optional port".
    let originHost: string
    try {
      originHost = new URL(origin).host
    } catch {
      return `Origin ${origin} is not allowed`
    }
    return hosts.has(hostName(originHost)) ? undefined : `Origin ${origin} is not allowed`
  }
}
