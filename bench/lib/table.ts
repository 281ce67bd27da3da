/** The one results table: aligned plain-text columns. */

/**
 * INVALID: the value is physically impossible, so it does not measure what the figure says.
 * n/a: the figure cannot be measured on this build (e.g. a feature that is not there yet); not a failure.
 * FAILED: the measurement itself failed (the section's error is printed and in the JSON).
 */
export type Verdict = 'PASS' | 'MISS' | 'info' | 'INVALID' | 'n/a' | 'FAILED';

export interface Row {
  /** Stable key for the JSON output. */
  key: string;
  figure: string;
  /** null when there is nothing to show as a number (then `display` says why). */
  value: number | null;
  unit: string;
  /** Human-readable target, e.g. "<= 6"; empty when the figure is informational. */
  target: string;
  verdict: Verdict;
  /** Digits shown in the table. */
  digits?: number;
  /** Shown instead of the formatted value, e.g. "n/a (no LL-HLS)". */
  display?: string;
}

/** PASS/MISS for `value <= limit` or `value >= limit`. */
export function check(value: number, op: '<=' | '>=', limit: number): Verdict {
  return (op === '<=' ? value <= limit : value >= limit) ? 'PASS' : 'MISS';
}

export function renderTable(rows: readonly Row[], notes: readonly string[]): string {
  const header = ['figure', 'value', 'unit', 'target', 'result'];
  const cells = rows.map((r) => [
    r.figure,
    r.display ?? (r.value === null ? '-' : r.value.toFixed(r.digits ?? 2)),
    r.unit,
    r.target || '-',
    r.verdict,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  // Text columns left-aligned, the value right-aligned.
  const line = (c: readonly string[]): string =>
    c
      .map((s, i) => (i === 1 ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(header), rule, ...cells.map(line), rule];
  notes.forEach((n, i) => out.push(`[${i + 1}] ${n}`));
  return out.join('\n');
}
