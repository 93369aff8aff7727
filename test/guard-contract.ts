/**
 * docs/guard-v1.schema.json as a validator (ajv), for every `guard --json` document the tests parse.
 */
import Ajv from 'ajv';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const schemaPath = fileURLToPath(new URL('../docs/guard-v1.schema.json', import.meta.url));
const ajv = new Ajv.default({ allErrors: true, strict: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));

/** Parses a `guard --json` document and throws with every violation of hermes-doctor.guard/v1. */
export function parseGuardV1<T = unknown>(text: string): T {
  const doc = JSON.parse(text) as unknown;
  if (!validate(doc)) throw new Error(`JSON does not follow docs/guard-v1.schema.json:\n${ajv.errorsText(validate.errors, { separator: '\n' })}`);
  return doc as T;
}
