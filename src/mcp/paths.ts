/** Where the MCP door answers: the MCP endpoint, the OAuth endpoints, and their metadata. */
export const MCP_PATH = '/mcp'
export const TOKEN_PATH = '/oauth/token'
export const AUTHORIZE_PATH = '/oauth/authorize'
export const RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource'
export const SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server'
