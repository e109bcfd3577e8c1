/** The artifact zip reader and writer, against the Info-ZIP `zip` and `unzip` tools. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readZipEntry, writeZip } from '../../lambda/handlers/zip';

function withDir<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'zip-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An archive made by `zip` with `options` (e.g. -0 to store, -z for a comment). */
function zipTool(files: Record<string, string>, options: string[] = []): Buffer {
  return withDir((dir) => {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    execFileSync('zip', ['-q', ...options, 'a.zip', ...Object.keys(files)], { cwd: dir, input: options.includes('-z') ? 'a comment\n' : '' });
    return readFileSync(join(dir, 'a.zip'));
  });
}

const DEFINITIONS = JSON.stringify([{ name: 'web', imageUri: `registry.example/app@sha256:${'a'.repeat(64)}` }]).repeat(20);

describe('readZipEntry', () => {
  test.each([['deflated', []], ['stored', ['-0']], ['with an archive comment', ['-z']]])('reads a file of a %s archive made by zip', (_name, options) => {
    const archive = zipTool({ 'imagedefinitions.json': DEFINITIONS, 'other.txt': 'other' }, options as string[]);
    expect(Buffer.from(readZipEntry(archive, 'imagedefinitions.json', 64 * 1024)!).toString()).toBe(DEFINITIONS);
    expect(readZipEntry(archive, 'missing.json', 1024)).toBeUndefined();
  });

  test('refuses a file larger than the limit, a corrupted file and what is not an archive', () => {
    const archive = zipTool({ 'imagedefinitions.json': DEFINITIONS }, ['-0']);
    expect(() => readZipEntry(archive, 'imagedefinitions.json', 100)).toThrow(`imagedefinitions.json is ${DEFINITIONS.length} bytes; at most 100 are accepted`);
    const corrupted = Buffer.from(archive);
    corrupted[corrupted.indexOf('[{')] = 0x7b;
    expect(() => readZipEntry(corrupted, 'imagedefinitions.json', 64 * 1024)).toThrow('does not match its size and CRC-32');
    expect(() => readZipEntry(Buffer.from('just text'), 'imagedefinitions.json', 1024)).toThrow('not a ZIP archive');
  });
});

describe('writeZip', () => {
  test('writes an archive that unzip tests and extracts, and that reads back', () => {
    const archive = writeZip([['imagedefinitions.json', Buffer.from(DEFINITIONS)], ['b.txt', Buffer.from('')]]);
    withDir((dir) => {
      writeFileSync(join(dir, 'a.zip'), archive);
      expect(execFileSync('unzip', ['-tq', 'a.zip'], { cwd: dir, encoding: 'utf8' })).toContain('No errors detected');
      expect(execFileSync('unzip', ['-p', 'a.zip', 'imagedefinitions.json'], { cwd: dir, encoding: 'utf8' })).toBe(DEFINITIONS);
    });
    expect(Buffer.from(readZipEntry(archive, 'b.txt', 10)!).toString()).toBe('');
    expect(writeZip([['imagedefinitions.json', Buffer.from(DEFINITIONS)]])).toEqual(writeZip([['imagedefinitions.json', Buffer.from(DEFINITIONS)]]));
  });
});
