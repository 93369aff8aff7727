/**
 * The README's JSON contract as a validator: docs/orphans-v1.schema.json compiled with ajv.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const schemaPath = fileURLToPath(new URL('../docs/orphans-v1.schema.json', import.meta.url));
const ajv = new Ajv.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));

/** Throws with every schema violation when `doc` does not follow hermes-doctor.orphans/v1. */
export function assertOrphansV1(doc: unknown): void {
  if (!validate(doc)) throw new Error(`JSON does not follow docs/orphans-v1.schema.json:\n${ajv.errorsText(validate.errors, { separator: '\n' })}`);
}
