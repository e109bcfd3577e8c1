/**
 * Rows as notation prints them (internal/ioutil, text/tabwriter with padding 3 and every cell ended by a tab):
 * each column, the last one too, padded to its widest cell plus three spaces; the first row the header.
 */
export function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] + 3)).join('')).join('\n') + '\n';
}
