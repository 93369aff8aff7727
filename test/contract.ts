/**
 * The README's JSON contract as a validator: docs/orphans-v1.schema.json compiled with ajv.
 */
import { schemaAssertion } from './harness/schema.js';

const check = schemaAssertion('orphans-v1.schema.json');

/** Throws with every schema violation when `doc` does not follow hermes-doctor.orphans/v1. */
export function assertOrphansV1(doc: unknown): void {
  check(doc);
}
