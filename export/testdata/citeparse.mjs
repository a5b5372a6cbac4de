// citeparse.mjs FILE FORMAT — parse a citation file with citation.js and
// print what it read as a CSL-JSON array on stdout.
//
// FORMAT is ris, bibtex or csl-json. citation.js (@citation-js/core and
// the ris, bibtex and csl plugins) is looked up in the node_modules
// directory named by CITEPARSE_NODE_MODULES, else in testdata/npm/node_modules
// of the repository (install it with: cd testdata/npm && npm ci).
//
// Used by TestRealParser (export/realparser_test.go) as a stand-in for the
// RIS and BibTeX importers of Zotero and other reference managers.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const [file, format] = process.argv.slice(2)
const types = { ris: '@ris/file', bibtex: '@biblatex/text', 'csl-json': '@csl/list+object' }
if (!file || !types[format]) {
  console.error('usage: node citeparse.mjs FILE ris|bibtex|csl-json')
  process.exit(2)
}

const modules = process.env.CITEPARSE_NODE_MODULES ||
  fileURLToPath(new URL('../../testdata/npm/node_modules/', import.meta.url))
// Resolve packages as a module beside that node_modules directory would.
const require = createRequire(join(modules, '..', 'citeparse.cjs'))

let Cite
try {
  ({ Cite } = require('@citation-js/core'))
  require('@citation-js/plugin-ris')
  require('@citation-js/plugin-bibtex')
  require('@citation-js/plugin-csl')
} catch (err) {
  console.error(`citation.js is not installed in ${modules} (cd testdata/npm && npm ci): ${err.message}`)
  process.exit(3)
}

try {
  const text = readFileSync(file, 'utf8')
  const input = format === 'csl-json' ? JSON.parse(text) : text
  const cite = new Cite(input, { forceType: types[format], generateGraph: false })
  process.stdout.write(JSON.stringify(cite.data, null, 2) + '\n')
} catch (err) {
  console.error(`citation.js could not parse ${file} as ${format}: ${err.stack || err}`)
  process.exit(1)
}
