// The local org's fault switches as text, for `npm run dev -- --faults ...`, `npm run local-org
// -- --faults ...` and the admin endpoint POST /__admin/faults: one spelling everywhere.
import type { Faults } from './server.ts'

/** How a lost answer breaks, after the org did the write. */
export const LOST_ANSWER_MODES = ['reset', 'cut', 'stall'] as const
export type LostAnswerMode = typeof LOST_ANSWER_MODES[number]

export const FAULTS_USAGE = '503=<share>,lock=<share>,latency=<ms>|<min>-<max>,lost=<share>' +
  '[,lost-mode=reset|cut|stall] (a share is 0..1; 0 or "off" switches one off)'

/** Settings a fault spec may change, all of them, so that a spec replaces what was switched on before. */
const SWITCHES: Array<keyof Faults> = [
  'rate503', 'rateUnableToLockRow', 'latencyMs', 'rateLostAnswer', 'lostAnswerMode'
]

function share (name: string, value: string): number | undefined {
  if (value === 'off') return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new Error(`fault ${name} takes a share between 0 and 1, not "${value}"`)
  }
  return n === 0 ? undefined : n
}

function latency (value: string): number | [number, number] | undefined {
  if (value === 'off' || value === '0') return undefined
  const range = /^(\d+)-(\d+)$/.exec(value)
  if (range !== null && Number(range[1]) <= Number(range[2])) return [Number(range[1]), Number(range[2])]
  if (/^\d+$/.test(value)) return Number(value)
  throw new Error(`fault latency takes milliseconds (50) or a range (30-100), not "${value}"`)
}

/**
 * `503=0.05,lock=0.02,latency=30-100,lost=0.01` → the Faults it switches on. Every switch the
 * spec can name is present in the result (undefined = off), so applying it replaces an earlier spec.
 */
export function parseFaultSpec (spec: string): Partial<Faults> {
  const out: Partial<Faults> = Object.fromEntries(SWITCHES.map((k) => [k, undefined]))
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [name = '', value = ''] = part.split('=', 2).map((p) => p.trim())
    switch (name) {
      case '503': out.rate503 = share(name, value); break
      case 'lock': out.rateUnableToLockRow = share(name, value); break
      case 'lost': out.rateLostAnswer = share(name, value); break
      case 'latency': out.latencyMs = latency(value); break
      case 'lost-mode':
        if (!(LOST_ANSWER_MODES as readonly string[]).includes(value)) {
          throw new Error(`fault lost-mode is one of ${LOST_ANSWER_MODES.join(', ')}, not "${value}"`)
        }
        out.lostAnswerMode = value as LostAnswerMode
        break
      default:
        throw new Error(`unknown fault "${name}": use ${FAULTS_USAGE}`)
    }
  }
  return out
}

/** The switches as a spec again (what GET /__admin/faults and `npm run dev` print). */
export function formatFaults (faults: Faults): string {
  const parts: string[] = []
  // A share of 0 is off, as the server reads it.
  if ((faults.rate503 ?? 0) > 0) parts.push(`503=${faults.rate503}`)
  if ((faults.rateUnableToLockRow ?? 0) > 0) parts.push(`lock=${faults.rateUnableToLockRow}`)
  const latency = faults.latencyMs
  if (latency !== undefined && latency !== 0) parts.push(`latency=${Array.isArray(latency) ? latency.join('-') : latency}`)
  if ((faults.rateLostAnswer ?? 0) > 0) parts.push(`lost=${faults.rateLostAnswer}`)
  if (faults.lostAnswerMode !== undefined) parts.push(`lost-mode=${faults.lostAnswerMode}`)
  return parts.join(',') || 'none'
}
