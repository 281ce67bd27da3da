/** Prints the README's option table from the option definitions. */
import { optionsTable } from '../main/core/options-table.js';

console.log(optionsTable());
