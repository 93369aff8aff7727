/**
 * The program's entry module, `dist/cli.js`: what bin/hermes-doctor.js loads and runs. The CLI itself is
 * src/cli/main.ts.
 */
export { main } from './cli/main.js';
