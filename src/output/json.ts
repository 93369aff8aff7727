/**
 * The machine report: one JSON document, schema `hermes-doctor.orphans/v1` (documented in README.md).
 * Additive changes keep v1; renaming or removing a field bumps the version.
 */
import type { Report } from '../types.js';
import { renderJsonDocument } from './redact.js';

/**
 * Serialises a report as pretty JSON with a trailing newline, masked (src/core/mask.ts: argv entry by
 * entry with `processes[].argvMasked`, secrets in every other string) and with DEL and C1 escaped.
 */
export function renderJson(report: Report): string {
  return renderJsonDocument(report);
}
