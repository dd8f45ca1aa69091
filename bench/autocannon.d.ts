// The part of autocannon's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  interface Histogram {
    average: number
    mean: number
    p50: number
    p90: number
    p99: number
    max: number
    total: number
  }
  interface Options {
    url: string
    method?: string
    headers?: Record<string, string>
    body?: string
    connections?: number
    duration?: number
    pipelining?: number
    requests?: Array<{ setupRequest?: (request: RequestParams) => RequestParams }>
  }
  interface RequestParams { method?: string, path?: string, headers: Record<string, string>, body?: string }
  interface Result {
    requests: Histogram
    latency: Histogram
    errors: number
    timeouts: number
    non2xx: number
    duration: number
  }
  function autocannon (opts: Options): Promise<Result>
  export default autocannon
}
