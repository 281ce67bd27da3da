/** stdin/stdout protocol of the load workers (see bench/lib/child.ts). */

/** The JSON input a worker was started with (read all of stdin). */
export async function readInput<T>(): Promise<T> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return JSON.parse(text) as T;
}

/** Writes the result as the last stdout line and exits. */
export function writeResult(result: unknown): void {
  process.stdout.write(`\n${JSON.stringify(result)}\n`, () => process.exit(0));
}
