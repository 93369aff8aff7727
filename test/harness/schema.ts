// JSON schemas of docs/ compiled with ajv (strict, every error, ajv-formats), as assertion functions.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './processes.js';

/** Compiles docs/FILE; the result throws with every violation when a document does not follow it. */
export function schemaAssertion(file: string): (doc: unknown) => void {
  const ajv = new Ajv.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'docs', file), 'utf8')));
  return (doc) => {
    if (!validate(doc)) throw new Error(`JSON does not follow docs/${file}:\n${ajv.errorsText(validate.errors, { separator: '\n' })}`);
  };
}
