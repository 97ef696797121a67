/**
 * Reads the few kinds of statement packaging/homebrew/mpx.rb uses, so that a test can run the
 * formula's own install and test steps without Homebrew. A statement it does not know fails the
 * test: teach it here when the formula grows.
 */

export interface FormulaInstall {
  /** `bash_completion.install buildpath/"<from>" => "<as>"`. */
  bashCompletion: {as: string; from: string}
  /** `ENV["<name>"] = buildpath/"<path>"`. */
  env: {name: string; path: string}
  /** `system bin/"mpx", "<args>"...`: the completion generation. */
  generate: string[]
  /** `zsh_completion.install buildpath/"<from>"`. */
  zshCompletion: {from: string}
}

/** One `shell_output` check of the test block: run `command`, expect `status`, find `match` in stdout. */
export interface FormulaCheck {
  command: string
  match: string
  status: number
}

/** The lines of a `<opener>` ... `end` block, by indentation (the formula is rubocop-formatted). */
function block(formula: string, opener: RegExp): string[] {
  const lines = formula.split('\n')
  const start = lines.findIndex((line) => opener.test(line))
  if (start === -1) throw new Error(`The formula has no ${opener} block`)
  const indent = /^\s*/.exec(lines[start])?.[0] ?? ''
  const end = lines.findIndex((line, index) => index > start && line === `${indent}end`)
  return lines
    .slice(start + 1, end)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
}

function strings(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"/g)].map((match) => match[1])
}

export function formulaInstall(formula: string): FormulaInstall {
  const install = block(formula, /^\s+def install$/).join('\n')
  const env = /^ENV\["(\w+)"] = buildpath\/"([^"]+)"$/m.exec(install)
  const generate = /^system bin\/"mpx", (.+)$/m.exec(install)
  const bash = /^bash_completion\.install buildpath\/"([^"]+)" => "([^"]+)"$/m.exec(install)
  const zsh = /^zsh_completion\.install buildpath\/"([^"]+)"$/m.exec(install)
  if (!env || !generate || !bash || !zsh) throw new Error(`Unexpected install block:\n${install}`)
  return {
    bashCompletion: {as: bash[2], from: bash[1]},
    env: {name: env[1], path: env[2]},
    generate: strings(generate[1]),
    zshCompletion: {from: zsh[1]},
  }
}

/** Ruby's `"#{bin}"` and `"#{version}"` interpolations; any other is an error. */
function interpolate(text: string, values: {bin: string; version: string}): string {
  return text.replaceAll(/\\(["\\])/g, '$1').replaceAll(/#\{([^}]*)}/g, (_match, name: string) => {
    if (name === 'bin') return values.bin
    if (name === 'version' || name === 'version.to_s') return values.version
    throw new Error(`Unknown interpolation #{${name}} in the formula's test block`)
  })
}

export function formulaChecks(formula: string, values: {bin: string; version: string}): FormulaCheck[] {
  const outputs = new Map<string, {command: string; status: number}>()
  const checks: FormulaCheck[] = []
  const shellOutput = /^shell_output\("((?:[^"\\]|\\.)*)"(?:, (\d+))?\)$/
  for (const line of block(formula, /^\s+test do$/)) {
    const assigned = /^(\w+) = (.+)$/.exec(line)
    const asserted = /^assert_match "([^"]*)", (.+)$/.exec(line)
    const call = shellOutput.exec((assigned ?? asserted)?.[2] ?? '')
    if (assigned && call) {
      outputs.set(assigned[1], {command: interpolate(call[1], values), status: Number(call[2] ?? 0)})
    } else if (asserted && call) {
      const match = interpolate(asserted[1], values)
      checks.push({command: interpolate(call[1], values), match, status: Number(call[2] ?? 0)})
    } else if (asserted && outputs.has(asserted[2])) {
      const output = outputs.get(asserted[2])
      if (output) checks.push({...output, match: interpolate(asserted[1], values)})
    } else {
      throw new Error(`The test cannot run this line of the formula's test block: ${line}`)
    }
  }

  return checks
}
