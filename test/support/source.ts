/** Helpers of the tests that read Mixpanel's export and engage APIs through a MixpanelClient. */

import {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'

/** A service-account client for project 42 (user `svc`, secret `s3cret`) whose retries hardly wait. */
export function testClient(apiUrl: string, attempts = 4): MixpanelClient {
  return new MixpanelClient({
    apiUrl,
    credentials: {kind: 'service-account', projectId: '42', secret: 's3cret', username: 'svc'},
    retry: {attempts, maxDelayMs: 5, minDelayMs: 1},
  })
}

/** Every line of every batch, in order. */
export async function collect(batches: AsyncIterable<string[]>): Promise<string[]> {
  const out: string[] = []
  for await (const batch of batches) out.push(...batch)
  return out
}
