// Send one of each call type with Segment's analytics-node, unmodified, to the host
// given: `node send.mjs HOST WRITE_KEY FLUSH_AT`. Prints one JSON line: the errors
// the library emitted and the HTTP answers its requests got.
import { Analytics } from '@segment/analytics-node'

const [host, writeKey, flushAt] = process.argv.slice(2)
const analytics = new Analytics({
  writeKey,
  host,
  flushAt: Number(flushAt || 15),
  flushInterval: 200,
  maxRetries: 3,
  httpRequestTimeout: 10000,
})
const errors = []
const responses = []
analytics.on('error', (error) => errors.push({ code: error.code, reason: String(error.reason) }))
analytics.on('http_request', (request) => responses.push({ url: request.url }))

const when = new Date('2024-03-01T12:00:00.000Z')
analytics.identify({ userId: 'user-1', traits: { email: 'ada@example.com' } })
analytics.track({ userId: 'user-1', event: 'Order Completed', properties: { revenue: 42.5 }, timestamp: when })
analytics.page({ userId: 'user-1', category: 'Docs', name: 'Pricing', properties: { path: '/pricing' } })
analytics.screen({ userId: 'user-1', name: 'Home' })
analytics.group({ userId: 'user-1', groupId: 'group-1', traits: { name: 'Initech' } })
analytics.alias({ userId: 'user-1', previousId: 'anon-1' })
analytics.track({ anonymousId: 'anon-2', event: 'Viewed' })
await analytics.closeAndFlush({ timeout: 60000 })
console.log(JSON.stringify({ errors, requests: responses.length }))
