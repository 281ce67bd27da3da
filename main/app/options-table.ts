/** Renders the option table the README shows (`npm run options-table`); a test keeps the README in step. */
import { OPTION_SPECS } from './options.js';

export function optionsTable(): string {
  const rows = OPTION_SPECS.map(
    (s) => `| ${s.flag ? `\`${s.flag}\`` : '—'} | \`${s.env}\` | ${s.defaultText} | ${s.doc} |`,
  );
  return ['| flag | environment variable | default | meaning |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}
