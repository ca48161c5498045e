/** Progress goes to stderr so that stdout is the report alone. */
export function log(message: string): void {
  console.error(message);
}
