// The SQL a Connect user runs on the mirror by hand (connect/indexes.sql), which the local sync runs
// for the stacks of dev, the bench and the tests as it would be run beside real Connect.
import { readFileSync } from 'node:fs'

export const mirrorIndexesSql = (): string => readFileSync(new URL('../connect/indexes.sql', import.meta.url), 'utf8')
