export const regions = ['us', 'eu', 'in'] as const
export type Region = (typeof regions)[number]

/** Mixpanel's hosts by data residency region (see shared/mixpanel-api.md). */
const hosts: Record<Region, {engage: string; export: string}> = {
  eu: {engage: 'https://eu.mixpanel.com', export: 'https://data-eu.mixpanel.com'},
  in: {engage: 'https://in.mixpanel.com', export: 'https://data-in.mixpanel.com'},
  us: {engage: 'https://mixpanel.com', export: 'https://data.mixpanel.com'},
}

export const EXPORT_PATH = '/api/2.0/export'
export const ENGAGE_PATH = '/api/2.0/engage'

export function isRegion(value: string): value is Region {
  return (regions as readonly string[]).includes(value)
}

/** The export and engage endpoints for a region, or for `apiUrl` (MPX_API_URL) when given. */
export function endpointsFor(region: Region, apiUrl?: string): {engage: string; export: string} {
  const origins = apiUrl ? {engage: apiUrl, export: apiUrl} : hosts[region]
  return {
    engage: new URL(ENGAGE_PATH, origins.engage).toString(),
    export: new URL(EXPORT_PATH, origins.export).toString(),
  }
}
