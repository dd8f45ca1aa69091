// x-sfdc.heroku.authorization names Salesforce metadata; a name with no metadata behind it
// fails only in the org, after publishing, so check it against the sfdx source folder here.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { XMLParser } from 'fast-xml-parser'
import type { JsonPath } from './lint-path.ts'
import type { Report } from './lint-report.ts'
import { isObject, operations, type Obj } from './lint-walk.ts'

/** Where each named kind of metadata lives in sfdx source format, relative to force-app/main/default. */
export const AUTHORIZATION_METADATA = {
  permissionSet: { rule: 'authorization-permission-set', folder: 'permissionsets', suffix: '.permissionset-meta.xml' },
  externalClientApp: { rule: 'authorization-external-client-app', folder: 'externalClientApps', suffix: '.eca-meta.xml' },
  connectedApp: { rule: 'authorization-connected-app', folder: 'connectedApps', suffix: '.connectedApp-meta.xml' },
} as const

export function metadataFile (metadataDir: string, kind: keyof typeof AUTHORIZATION_METADATA, name: string): string {
  const { folder, suffix } = AUTHORIZATION_METADATA[kind]
  return join(metadataDir, folder, `${name}${suffix}`)
}

async function readIfExists (file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export function authorizationOf (operation: Obj): Obj | undefined {
  const sfdc = operation['x-sfdc']
  const heroku = isObject(sfdc) ? sfdc.heroku : undefined
  const authorization = isObject(heroku) ? heroku.authorization : undefined
  return isObject(authorization) ? authorization : undefined
}

async function checkPermissionSet (name: unknown, path: JsonPath, metadataDir: string, report: Report): Promise<void> {
  const { rule } = AUTHORIZATION_METADATA.permissionSet
  if (typeof name !== 'string' || name === '') {
    report(rule, path, 'x-sfdc.heroku.authorization needs a permissionSet: the session-based permission set AppLink activates for the call')
    return
  }
  const file = metadataFile(metadataDir, 'permissionSet', name)
  const xml = await readIfExists(file)
  if (xml === undefined) {
    report(rule, path, `permission set "${name}" has no metadata at ${file}`)
    return
  }
  const parsed: unknown = new XMLParser().parse(xml)
  const activationRequired = isObject(parsed) && isObject(parsed.PermissionSet)
    ? parsed.PermissionSet.hasActivationRequired
    : undefined
  if (activationRequired !== true) {
    report('authorization-permission-set-session', path, `permission set "${name}" must be session-based (<hasActivationRequired>true</hasActivationRequired>) for AppLink to activate it per call`)
  }
}

async function checkApp (kind: 'externalClientApp' | 'connectedApp', name: unknown, path: JsonPath, metadataDir: string, report: Report): Promise<void> {
  const { rule } = AUTHORIZATION_METADATA[kind]
  if (typeof name !== 'string' || name === '') {
    report(rule, path, `${kind} must be a non-empty name`)
    return
  }
  const file = metadataFile(metadataDir, kind, name)
  if (await readIfExists(file) === undefined) report(rule, path, `${kind} "${name}" has no metadata at ${file}`)
}

export async function lintAuthorization (doc: Obj, metadataDir: string, report: Report): Promise<void> {
  for (const { path, operation } of operations(doc)) {
    const authorization = authorizationOf(operation)
    if (!authorization) continue
    const base = [...path, 'x-sfdc', 'heroku', 'authorization']
    await checkPermissionSet(authorization.permissionSet, [...base, 'permissionSet'], metadataDir, report)
    for (const kind of ['externalClientApp', 'connectedApp'] as const) {
      if (kind in authorization) await checkApp(kind, authorization[kind], [...base, kind], metadataDir, report)
    }
  }
}
