/**
 * The machine report: one JSON document, schema `hermes-doctor.orphans/v1` (documented in README.md).
 * Additive changes keep v1; renaming or removing a field bumps the version.
 */
import type { Report } from '../types.js';

/** Serialises a report as pretty JSON with a trailing newline. */
export function renderJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}
