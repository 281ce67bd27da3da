/** Prints the README's generated tables: the options, then the eCDN troubleshooting table. */
import { optionsTable } from '../main/app/options-table.js';
import { bindingProblemsTable } from '../main/partner/binding-problems.js';

console.log(optionsTable());
console.log();
console.log(bindingProblemsTable());
