/**
 * The classifier's entry point: `classify(snapshot, options)` → report. The steps are in ./classify/
 * (verdicts, holders, kanban, findings) over the analysis of ./analysis.ts.
 */
export { classify, KILLABLE_VERDICTS, STARTUP_WINDOW_MS, type ClassifyOptions } from './classify/index.js';
