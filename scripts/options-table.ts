/**
 * Prints the README's generated tables, in the README's order: the options, the publishing point options, then the
 * eCDN troubleshooting table.
 */
import { optionsTable } from '../main/app/options-table.js';
import { ppOptionsTable } from '../main/origin/publishing-point-options-table.js';
import { bindingProblemsTable } from '../main/partner/binding-problems.js';

console.log(optionsTable());
console.log();
console.log(ppOptionsTable());
console.log();
console.log(bindingProblemsTable());
