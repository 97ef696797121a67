import type {Ora} from 'ora'

export interface ProgressOptions {
  /** e.g. `events`. */
  noun: string
  /** --quiet: no spinner, no summary, no warnings beyond errors. */
  quiet: boolean
  stream?: NodeJS.WriteStream
}

/** Made when first needed: creating a NumberFormat costs a few ms, which a quiet fetch need not spend at start-up. */
let numberFormat: Intl.NumberFormat | undefined
const THOUSANDS = /\B(?=(\d{3})+$)/g
const number = {
  format(n: number): string {
    // A count (a whole number) is its digits grouped by three, as en-US writes it: no Intl needed
    // for the summary line every fetch builds.
    if (Number.isSafeInteger(n) && n >= 0) return String(n).replaceAll(THOUSANDS, ',')
    numberFormat ??= new Intl.NumberFormat('en-US')
    return numberFormat.format(n)
  },
}

/**
 * Progress on stderr: a spinner with count and rate while stderr is a TTY, nothing otherwise;
 * warnings and the final summary go to stderr either way unless --quiet.
 */
export class Progress {
  private count = 0
  private detail = ''
  private lastRender = 0
  private spinner: Ora | undefined
  private readonly started = performance.now()
  private readonly stream: NodeJS.WriteStream

  private constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr
  }

  static async start(options: ProgressOptions): Promise<Progress> {
    const progress = new Progress(options)
    // A terminal that reports no width (a pseudo-terminal opened without a size, as by `script` or
    // `docker run -t` in a pipeline) gets none: ora would count every line as infinitely many
    // and clear lines forever.
    if (!options.quiet && progress.stream.isTTY && (progress.stream.columns ?? 80) > 0) {
      // ora is loaded only when there is a terminal to draw on.
      const {default: ora} = await import('ora')
      progress.spinner = ora({discardStdin: false, stream: progress.stream, text: `Fetching ${options.noun}…`}).start()
    }

    return progress
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000
  }

  /** A warning that --quiet does not silence (what a script must not miss). */
  alert(message: string): void {
    if (this.spinner) {
      this.spinner.clear()
      this.stream.write(`Warning: ${message}\n`)
      this.spinner.render()
    } else {
      this.stream.write(`Warning: ${message}\n`)
    }
  }

  /** Marks the end: the summary line replaces the spinner. */
  done(summary: string): void {
    if (this.spinner) this.spinner.succeed(summary)
    else if (!this.options.quiet) this.stream.write(`${summary}\n`)
  }

  fail(): void {
    this.spinner?.stop()
  }

  /** A line of information (e.g. a plan), unless --quiet. */
  info(message: string): void {
    if (this.options.quiet) return
    this.spinner?.clear()
    this.stream.write(`${message}\n`)
    this.spinner?.render()
  }

  /** A context note shown beside the count, e.g. the chunk being fetched. */
  note(detail: string): void {
    this.detail = detail
    this.render(true)
  }

  update(count: number): void {
    this.count = count
    this.render(false)
  }

  warn(message: string): void {
    if (this.options.quiet) return
    this.alert(message)
  }

  private render(force: boolean): void {
    if (!this.spinner) return
    const now = performance.now()
    if (!force && now - this.lastRender < 100) return
    this.lastRender = now
    const rate = this.count / Math.max(this.elapsedSeconds, 0.001)
    const detail = this.detail ? ` · ${this.detail}` : ''
    this.spinner.text = `Fetching ${this.options.noun}: ${number.format(this.count)} (${number.format(Math.round(rate))}/s)${detail}`
  }
}

export function formatCount(count: number): string {
  return number.format(count)
}

/** `1 event`, `2,000 events`: a count and its noun (given in the plural, as every noun mpx counts takes an -s). */
export function counted(count: number, plural: string): string {
  return `${formatCount(count)} ${count === 1 ? plural.replace(/s$/, '') : plural}`
}
