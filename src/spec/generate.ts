import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import YAML from 'yaml'
import app from '../app.ts'
import { serverOptions } from '../server-options.ts'
import { loadConfig } from '../config.ts'

export const SPEC_PATH = new URL('../../openapi/api-spec.yaml', import.meta.url)

/**
 * The OpenAPI document exactly as the app's routes describe it, as YAML without anchors or
 * aliases (External Services does not resolve them).
 */
export async function generateSpec (): Promise<string> {
  // No job is queued without a database: a throw-away key satisfies the config (none is built in).
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    JOB_ENCRYPTION_KEYS: `spec:${randomBytes(32).toString('base64')}`
  })
  const instance = Fastify(serverOptions(config, false))
  await instance.register(app, { config, database: false })
  await instance.ready()
  try {
    return YAML.stringify(instance.swagger(), { aliasDuplicateObjects: false, lineWidth: 0 })
  } finally {
    await instance.close()
  }
}
