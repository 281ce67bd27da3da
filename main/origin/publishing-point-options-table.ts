/**
 * Renders the publishing point option table the README shows (`npm run options-table`), from
 * {@link PP_OPTION_SPECS}; a test keeps the README in step.
 */
import { PP_OPTION_SPECS, type PpOptionSpec } from './publishing-point-options.js';

const code = (v: string | number | boolean): string => `\`${String(v)}\``;

function typeText(s: PpOptionSpec): string {
  if (s.type === 'enum') return 'enum';
  if (s.type === 'boolean') return 'boolean';
  return s.integer ? 'integer' : 'number';
}

function defaultText(s: PpOptionSpec): string {
  const d = s.default;
  const text = typeof d === 'object' ? `derived: ${d.derived}` : code(d);
  return s.defaultNote ? `${text} (${s.defaultNote})` : text;
}

function rangeText(s: PpOptionSpec): string {
  if (s.type === 'boolean') return '`true`/`1`/`yes`, `false`/`0`/`no`; else the default';
  if (s.type === 'enum') return `${s.values.map(code).join(', ')}; else the default`;
  const parts: string[] = [];
  if (s.min !== undefined && s.max !== undefined) parts.push(`${s.min} to ${s.max}`);
  else if (s.min !== undefined) parts.push(`≥ ${s.min}`);
  else if (s.max !== undefined) parts.push(`≤ ${s.max}`);
  if (s.maxShareOfFragment !== undefined) {
    const share = 1 / s.maxShareOfFragment;
    parts.push(
      `at most \`fragment_duration\` ${Number.isInteger(share) ? `/ ${share}` : `× ${s.maxShareOfFragment}`}`,
    );
  }
  const range = parts.join(', ');
  const outside = parts.length === 0 ? '' : s.outOfRange === 'default' ? ' (else the default)' : ' (clamped)';
  const fallback = 'not a number: the default';
  const empty = s.empty === 'zero' ? '; empty is 0' : '';
  return range ? `${range}${outside}; ${fallback}${empty}` : `any; ${fallback}${empty}`;
}

export function ppOptionsTable(): string {
  const rows = PP_OPTION_SPECS.map(
    (s) => `| \`${s.name}\` | ${typeText(s)} | ${defaultText(s)} | ${rangeText(s)} | ${s.doc} |`,
  );
  return ['| option | type | default | values | effect |', '| --- | --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}
