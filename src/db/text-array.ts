/** A text[] parameter as PostgreSQL's array literal (every element quoted), the same on both drivers. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
