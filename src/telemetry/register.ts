// `node --import ./src/telemetry/register.ts src/server.ts`: starts OpenTelemetry before the app's
// modules load, when OTEL_EXPORTER_OTLP_ENDPOINT is set (src/telemetry/sdk.ts).
import { startTelemetry } from './sdk.ts'

await startTelemetry()
