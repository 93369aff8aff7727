/**
 * docs/guard-v1.schema.json as a validator (ajv), for every `guard --json` document the tests parse.
 */
import { schemaAssertion } from './harness/schema.js';

const check = schemaAssertion('guard-v1.schema.json');

/** Parses a `guard --json` document and throws with every violation of hermes-doctor.guard/v1. */
export function parseGuardV1<T = unknown>(text: string): T {
  const doc = JSON.parse(text) as unknown;
  check(doc);
  return doc as T;
}
