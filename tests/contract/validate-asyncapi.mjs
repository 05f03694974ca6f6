// Validates an AsyncAPI document with the official parser: prints every diagnostic, exits 1 on any error.
import { Parser } from '@asyncapi/parser';
import fs from 'fs';

const parser = new Parser();
const { document, diagnostics } = await parser.parse(fs.readFileSync(process.argv[2], 'utf8'));
for (const d of diagnostics) console.log(`${d.severity} ${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
const errors = diagnostics.filter((d) => d.severity === 0);
process.exit(errors.length || !document ? 1 : 0);
