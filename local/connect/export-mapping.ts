import { MAPPING, toConnectExport } from '../../src/postgres/mapping.ts'

/** `connect/mapping.json` as it must read: the Connect export of the declared mapping. */
export function exportMapping (): string {
  return `${JSON.stringify(toConnectExport(MAPPING), null, 2)}\n`
}
