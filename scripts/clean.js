// Removes build output portably (no rimraf needed): node scripts/clean.js DIR...
import {rmSync} from 'node:fs'

for (const dir of process.argv.slice(2)) rmSync(dir, {force: true, recursive: true})
