// Preloaded (NODE_OPTIONS=--require) by tests that check what a command loads: reports every
// native addon the process opens, such as DuckDB's, on stderr.
const {dlopen} = process
process.dlopen = function (module, filename, ...rest) {
  process.stderr.write(`native addon: ${filename}\n`)
  return dlopen.call(this, module, filename, ...rest)
}
