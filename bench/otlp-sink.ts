// A local OTLP/HTTP sink in a process of its own, as a collector runs beside a dyno: it takes every
// export (traces, metrics; protobuf or JSON), answers 200 with an empty body (a full success in OTLP/HTTP),
// and counts them by path; GET /exports answers the counts. Nothing is decoded: the bench measures what
// exporting costs the service, not what a backend does with it.
import { createServer } from 'node:http'

const exports = new Map<string, number>()

createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/exports') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(Object.fromEntries(exports)))
    return
  }
  req.on('data', () => {})
  req.on('end', () => {
    exports.set(req.url ?? '', (exports.get(req.url ?? '') ?? 0) + 1)
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' })
    res.end()
  })
}).listen(Number(process.env.PORT), '127.0.0.1')
