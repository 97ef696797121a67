/**
 * Deterministic, realistic Mixpanel records for tests and benchmarks.
 *
 * Every record is computed on demand from (seed, index), so a generator of ten million events costs no memory:
 * the fake server streams `lineAt(i)` for the indices it needs. The line text is assembled by hand (not with
 * JSON.stringify of a JS object) so that 19-digit integers can be written as bare JSON numbers, exactly as
 * Mixpanel does, without being rounded by a float64 on the way.
 */

/** A source of raw export lines, one event per index, ordered by time. */
export interface GeneratedEvents {
  readonly count: number
  /** The event name of record i (cheap: does not build the line). */
  eventAt(i: number): string
  /** The raw export JSON line of record i, without a trailing newline. */
  lineAt(i: number): string
  /** Lines [start, end) in order. */
  lines(start?: number, end?: number): Generator<string>
  /** `properties.time` of record i, epoch seconds; non-decreasing in i. */
  timeAt(i: number): number
}

export interface GenerateEventsOptions {
  count: number
  /** Event names to pick from; defaults to a realistic set of eight. */
  eventNames?: readonly string[]
  /** First UTC day, `YYYY-MM-DD`, inclusive. */
  from: string
  seed?: number
  /** Last UTC day, `YYYY-MM-DD`, inclusive. */
  to: string
}

/** A source of engage results, one profile per index. */
export interface GeneratedProfiles {
  readonly count: number
  /** `$distinct_id` of record i (cheap: does not build the line). */
  distinctIdAt(i: number): string
  /** The JSON text of engage result i: `{"$distinct_id":...,"$properties":{...}}`. */
  lineAt(i: number): string
  lines(start?: number, end?: number): Generator<string>
}

export interface GenerateProfilesOptions {
  count: number
  seed?: number
}

export const defaultEventNames: readonly string[] = [
  'Signed up',
  'Logged in',
  'Page viewed',
  'Product viewed',
  'Added to cart',
  'Checkout started',
  'Purchase completed',
  'Search',
]

/* eslint-disable no-bitwise -- a PRNG and a hash are bit arithmetic by nature */

/** mulberry32: a tiny, fast, good-enough 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d_2b_79_f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Hash (seed, index, stream) into an independent PRNG seed, so record i never depends on records before it. */
function recordSeed(seed: number, index: number, stream: number): number {
  let h = (seed ^ Math.imul(index, 0x9e_37_79_b1) ^ Math.imul(Math.floor(index / 2 ** 32), 0x85_eb_ca_6b)) >>> 0
  h ^= Math.imul(stream, 0xc2_b2_ae_35)
  // murmur3 finalizer: spreads neighbouring indices over the whole 32-bit space
  h ^= h >>> 16
  h = Math.imul(h, 0x85_eb_ca_6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2_b2_ae_35)
  h ^= h >>> 16
  return h >>> 0
}

/* eslint-enable no-bitwise */

const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** Convenience wrapper over a PRNG with the draws the generators need. */
class Draw {
  readonly next: () => number

  constructor(seed: number) {
    this.next = mulberry32(seed)
  }

  alnum(length: number): string {
    let s = ''
    for (let k = 0; k < length; k++) s += alphabet[this.int(62)]
    return s
  }

  /** A 19-digit integer as text, within int64 range (first digit 1-8), far beyond 2^53. */
  bigIntText(): string {
    // 1 + 9 + 9 digits; each 9-digit part is below 2^53 so the draw itself is exact
    return `${1 + this.int(8)}${String(this.int(1e9)).padStart(9, '0')}${String(this.int(1e9)).padStart(9, '0')}`
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  /** `length` hex digits (at most 8). */
  hex(length: number): string {
    return Math.floor(this.next() * 16 ** length)
      .toString(16)
      .padStart(length, '0')
  }

  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${'89ab'[this.int(4)]}${this.hex(3)}-${this.hex(6)}${this.hex(6)}`
  }
}

/** JSON text of a string (JSON.stringify escapes quotes, control characters and lone surrogates correctly). */
const str = (s: string): string => JSON.stringify(s)
/** JSON text of a finite JS number. */
const num = (n: number): string => JSON.stringify(n)
/** JSON text of an object from [key, already-encoded JSON value] pairs, in order (profiles: clarity over speed). */
const obj = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  `{${pairs.map(([k, v]) => `${str(k)}:${v}`).join(',')}}`

const browsers = [
  'Chrome',
  'Safari',
  'Firefox',
  'Microsoft Edge',
  'Mobile Safari',
  'Chrome iOS',
  'Samsung Internet',
] as const
const operatingSystems = ['Mac OS X', 'Windows', 'iOS', 'Android', 'Linux', 'Chrome OS'] as const
/** [city, region, country code, IANA time zone]: accents, CJK, Cyrillic, Arabic. */
const places = [
  ['São Paulo', 'São Paulo', 'BR', 'America/Sao_Paulo'],
  ['Zürich', 'Zurich', 'CH', 'Europe/Zurich'],
  ['München', 'Bavaria', 'DE', 'Europe/Berlin'],
  ['東京', '東京都', 'JP', 'Asia/Tokyo'],
  ['Paris', 'Île-de-France', 'FR', 'Europe/Paris'],
  ['Kraków', 'Lesser Poland', 'PL', 'Europe/Warsaw'],
  ['New York', 'New York', 'US', 'America/New_York'],
  ['San Francisco', 'California', 'US', 'America/Los_Angeles'],
  ['Montréal', 'Quebec', 'CA', 'America/Toronto'],
  ['서울', 'Seoul', 'KR', 'Asia/Seoul'],
  ['Москва', 'Moscow', 'RU', 'Europe/Moscow'],
  ['Reykjavík', 'Capital Region', 'IS', 'Atlantic/Reykjavik'],
  ['القاهرة', 'Cairo', 'EG', 'Africa/Cairo'],
  ['Mumbai', 'Maharashtra', 'IN', 'Asia/Kolkata'],
] as const
/** Free text as users type it: unicode, emoji (incl. ZWJ sequences), and characters JSON must escape. */
const searchTerms = [
  'chaussures de randonnée',
  'café ☕ près de chez moi',
  '北京烤鸭 外卖',
  'naïve résumé template',
  '🎉 party supplies 🎈',
  'Grüße aus Köln',
  'ラーメン 東京 おすすめ',
  'family 👩‍👩‍👧‍👦 tickets',
  'wireless headphones',
  String.raw`size 10 "wide fit" \ sale`,
  'tab\tseparated',
  'zażółć gęślą jaźń',
] as const
const pages = [
  '/',
  '/pricing',
  '/products/trail-runner-2',
  '/cart',
  '/checkout',
  '/blog/how-we-ship',
  '/account/settings',
] as const
const referrers = [
  ['https://www.google.com/', 'www.google.com'],
  ['https://t.co/x7Fq2', 't.co'],
  ['https://news.ycombinator.com/item?id=38712409', 'news.ycombinator.com'],
  ['$direct', '$direct'],
] as const
const utmSources = ['google', 'newsletter', 'facebook', 'partner-blog'] as const
const plans = ['free', 'starter', 'pro', 'enterprise'] as const
const currencies = ['EUR', 'USD', 'JPY', 'BRL'] as const
const skus = ['TR-2-BLU-42', 'TR-2-RED-41', 'HB-100', 'SOCK-3PK', 'GC-50', 'CAP-ÉTÉ'] as const
const languages = ['en', 'fr', 'de', 'ja', 'pt-BR', 'es'] as const
const tagSets = [['beta'], ['beta', 'early-adopter'], ['vip'], ['churn-risk', 'étudiant'], []] as const
const screens = [
  [1920, 1080],
  [1440, 900],
  [390, 844],
  [414, 896],
  [2560, 1440],
] as const

// Pools pre-encoded as JSON text once, so building a line is mostly string concatenation.
const browsersJson = browsers.map((b) => str(b))
const osJson = operatingSystems.map((o) => str(o))
const placesJson = places.map((p) => p.map((v) => str(v)))
const searchTermsJson = searchTerms.map((t) => str(t))
const referrersJson = referrers.map((r) => r.map((v) => str(v)))
const utmSourcesJson = utmSources.map((u) => str(u))
const plansJson = plans.map((p) => str(p))
const currenciesJson = currencies.map((c) => str(c))
const skusJson = skus.map((k) => str(k))
const tagsJson = tagSets.map((t) => `[${t.map((v) => str(v)).join(',')}]`)

const dayPattern = /^\d{4}-\d{2}-\d{2}$/
/** Epoch seconds of 00:00:00 UTC on a `YYYY-MM-DD` day. */
export function dayStartSeconds(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`)
  if (!dayPattern.test(day) || Number.isNaN(ms))
    throw new Error(`invalid day ${JSON.stringify(day)}, expected YYYY-MM-DD`)
  return ms / 1000
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`invalid count ${count}`)
}

function* range(lineAt: (i: number) => string, count: number, start = 0, end = count): Generator<string> {
  for (let i = Math.max(0, start); i < Math.min(end, count); i++) yield lineAt(i)
}

export function generateEvents(options: GenerateEventsOptions): GeneratedEvents {
  const {count, eventNames = defaultEventNames, seed = 1} = options
  checkCount(count)
  if (eventNames.length === 0) throw new Error('eventNames must not be empty')
  const start = dayStartSeconds(options.from)
  const end = dayStartSeconds(options.to) + 86_400
  if (end <= start) throw new Error(`from (${options.from}) is after to (${options.to})`)
  const span = end - start

  // Even spread over [start, end): non-decreasing, so the server can binary-search a date range.
  const timeAt = (i: number): number => start + Math.floor((i * span) / count)
  // The name comes from its own PRNG stream so eventAt() needs no other draws.
  const eventAt = (i: number): string =>
    eventNames[Math.floor(mulberry32(recordSeed(seed, i, 1))() * eventNames.length)]

  const lineAt = (i: number): string => {
    const d = new Draw(recordSeed(seed, i, 2))
    const time = timeAt(i)
    const place = d.pick(placesJson)
    const referrer = d.pick(referrersJson)
    const screen = d.pick(screens)
    const anonymous = d.chance(0.15)
    const deviceId = d.uuid()
    const distinctId = anonymous ? `"$device:${deviceId}"` : `"u${d.int(50_000)}"`
    let items = ''
    for (let k = 1 + d.int(2); k > 0; k--) {
      items += `${items ? ',' : ''}{"sku":${d.pick(skusJson)},"qty":${1 + d.int(4)},"unit_price":${num(d.int(20_000) / 100)}}`
    }

    // Old events (and some SDKs) send no $insert_id: ~1 in 50.
    const insertId = d.chance(0.02) ? '' : `"$insert_id":"${d.alnum(36)}",`
    // ~1 in 10: a 19-digit id, written straight into the text so it stays exact.
    const bigId = d.chance(0.1) ? `,"account_id":${d.bigIntText()}` : ''
    // Tiny floats serialize in exponent form (e.g. 4e-7): a JSON number shape parsers must accept.
    const score = d.chance(0.1) ? num((1 + d.int(9)) * 1e-7) : num(d.int(1_000_000) / 1e6)
    // One template literal: ~3x faster than assembling pairs, which matters at millions of lines.
    return (
      `{"event":${str(eventAt(i))},"properties":{"time":${time},"distinct_id":${distinctId},${insertId}` +
      `"mp_processing_time_ms":${time * 1000 + d.int(3_600_000)},"$browser":${d.pick(browsersJson)},` +
      `"$browser_version":${d.chance(0.5) ? 100 + d.int(30) : num((140 + d.int(40)) / 10)},"$os":${d.pick(osJson)},` +
      `"$device_id":"${deviceId}","$user_id":${anonymous ? 'null' : distinctId},` +
      `"$city":${place[0]},"$region":${place[1]},"mp_country_code":${place[2]},` +
      `"$current_url":"https://shop.example.com${d.pick(pages)}?ref=${d.alnum(8)}&lang=${d.pick(languages)}",` +
      `"$referrer":${referrer[0]},"$referring_domain":${referrer[1]},` +
      `"$screen_width":${screen[0]},"$screen_height":${screen[1]},"mp_lib":"web","$lib_version":"2.55.1",` +
      `"utm_source":${d.chance(0.4) ? 'null' : d.pick(utmSourcesJson)},` +
      `"utm_campaign":${d.chance(0.7) ? 'null' : `"spring_sale_${2024 + d.int(2)}"`},` +
      `"plan":${d.pick(plansJson)},"is_trial":${d.chance(0.3)},"search_term":${d.pick(searchTermsJson)},` +
      `"cart":{"currency":${d.pick(currenciesJson)},"items":[${items}],` +
      `"coupon":${d.chance(0.8) ? 'null' : `"SAVE${5 * (1 + d.int(6))}"`},"total":${num(d.int(50_000) / 100)}},` +
      `"tags":${d.pick(tagsJson)},"session_duration_sec":${num(d.int(3_600_000) / 1000)},` +
      `"conversion_score":${score}${bigId}}}`
    )
  }

  return {
    count,
    eventAt,
    lineAt,
    lines: (from?: number, to?: number) => range(lineAt, count, from, to),
    timeAt,
  }
}

const firstNames = [
  'Zoë',
  'José',
  'Łukasz',
  'Søren',
  'Amélie',
  'Björk',
  'Anna',
  'Hiroshi',
  'Nguyễn',
  'Chloé',
  'Ola',
  'Mei',
] as const
const lastNames = [
  'Müller',
  'García',
  'Dvořák',
  '山田',
  'Ó Briain',
  'Smith',
  'Kowalska',
  'Lefèvre',
  'Andersson',
  '李',
] as const
const bios = [
  'Runner 🏃‍♀️, coffee ☕, code 💻',
  'Ich liebe Bücher und Brötchen.',
  'ソフトウェアエンジニア',
  String.raw`Says "hello" \ waves`,
  '',
  'Loves crème brûlée',
] as const

/** `YYYY-MM-DDTHH:MM:SS`, the format engage uses for dates (no zone: they are UTC). */
function engageDate(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19)
}

export function generateProfiles(options: GenerateProfilesOptions): GeneratedProfiles {
  const {count, seed = 1} = options
  checkCount(count)
  const distinctIdAt = (i: number): string => `u${i}`
  const created0 = dayStartSeconds('2022-01-01')
  const lastSeen0 = dayStartSeconds('2024-01-01')

  const lineAt = (i: number): string => {
    const d = new Draw(recordSeed(seed, i, 3))
    const first = d.pick(firstNames)
    const last = d.pick(lastNames)
    const [city, region, country, timezone] = d.pick(places)
    const created = created0 + d.int(2 * 365 * 86_400)
    const props: Array<readonly [string, string]> = [
      ['$email', str(`${first.toLowerCase()}.${i}@example.com`)],
      ['$name', str(`${first} ${last}`)],
      ['$first_name', str(first)],
      ['$last_name', str(last)],
      ['$created', str(engageDate(created))],
    ]
    // A few profiles were never seen: `$last_seen` is absent.
    if (!d.chance(0.03)) props.push(['$last_seen', str(engageDate(lastSeen0 + d.int(365 * 86_400)))])
    props.push(
      ['$city', str(city)],
      ['$region', str(region)],
      ['$country_code', str(country)],
      ['$timezone', str(timezone)],
      ['$os', str(d.pick(operatingSystems))],
      ['$browser', str(d.pick(browsers))],
      [
        '$phone',
        d.chance(0.6) ? 'null' : str(`+33 6 ${10 + d.int(89)} ${10 + d.int(89)} ${10 + d.int(89)} ${10 + d.int(89)}`),
      ],
      ['plan', str(d.pick(plans))],
      ['lifetime_value', num(Math.round(d.next() * 1_000_000) / 100)],
      ['orders_count', num(d.int(200))],
      ['is_verified', d.chance(0.7) ? 'true' : 'false'],
      [
        'tags',
        `[${['newsletter', 'beta', 'vip', 'étudiant']
          .slice(0, d.int(5))
          .map((t) => str(t))
          .join(',')}]`,
      ],
      [
        'preferences',
        obj([
          ['language', str(d.pick(languages))],
          ['newsletter', d.chance(0.5) ? 'true' : 'false'],
          ['theme', d.chance(0.5) ? 'null' : str(d.pick(['dark', 'light']))],
        ]),
      ],
      ['bio', str(d.pick(bios))],
      ['$avatar', str(`https://cdn.example.com/avatars/${d.hex(8)}${d.hex(8)}.png`)],
    )
    // ~1 in 10: a 19-digit id, written straight into the text so it stays exact.
    if (d.chance(0.1)) props.push(['company_id', d.bigIntText()])
    return `{"$distinct_id":${str(distinctIdAt(i))},"$properties":${obj(props)}}`
  }

  return {count, distinctIdAt, lineAt, lines: (from?: number, to?: number) => range(lineAt, count, from, to)}
}
