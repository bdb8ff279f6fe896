// Parses Mermaid diagrams (files holding one ```mermaid block, or bare) with
// Mermaid's own parser, the one GitHub renders with. Exits 1 if any fails.
// Usage: node scripts/check-mermaid.mjs FILE...
import { JSDOM } from 'jsdom';
import fs from 'fs';

// Mermaid's parser needs a DOM for its sanitizer; jsdom stands in for a browser.
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import('mermaid')).default;
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of process.argv.slice(2)) {
  const src = fs.readFileSync(file, 'utf8').replace(/^```mermaid\n/, '').replace(/```\n?$/, '');
  try {
    const { diagramType } = await mermaid.parse(src);
    console.log(`${file}: ok (${diagramType})`);
  } catch (e) {
    failed++;
    console.log(`${file}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
