/** Rows as notation prints them (tabwriter): columns left-aligned, three spaces apart, the first row the header. */
export function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] + 3))).join('')).join('\n') + '\n';
}
