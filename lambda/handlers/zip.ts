/**
 * The little of the ZIP format (PKWARE APPNOTE 6.3.10) that CodePipeline artifacts need: read one file of an
 * archive (stored or deflated, as CodeBuild writes them) and write an archive of small files. No ZIP64, no
 * encryption, no multi-disk archives: an artifact that needs them is refused by name.
 */
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const STORED = 0;
const DEFLATED = 8;

/** A malformed or unsupported archive; the message says what is wrong with it. */
export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

/**
 * The content of the file at `name` in the archive, or `undefined` when the archive has none. Throws ZipError for a
 * malformed archive, an unsupported entry or an entry larger than `maxBytes` once uncompressed.
 */
export function readZipEntry(archive: Uint8Array, name: string, maxBytes: number): Uint8Array | undefined {
  const zip = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const end = findEndOfCentralDirectory(zip);
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  for (let index = 0; index < entries; index++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== CENTRAL_HEADER) throw new ZipError('the central directory is malformed');
    const flags = zip.readUInt16LE(offset + 8);
    const method = zip.readUInt16LE(offset + 10);
    const crc = zip.readUInt32LE(offset + 16);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;

    // General purpose flag bit 0: the entry is encrypted.
    if (flags % 2 === 1) throw new ZipError(`${name} is encrypted`);
    if (size > maxBytes) throw new ZipError(`${name} is ${size} bytes; at most ${maxBytes} are accepted`);
    if (localOffset + 30 > zip.length || zip.readUInt32LE(localOffset) !== LOCAL_HEADER) throw new ZipError(`the local header of ${name} is malformed`);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    if (dataStart + compressedSize > zip.length) throw new ZipError(`${name} runs past the end of the archive`);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (method !== STORED && method !== DEFLATED) {
      throw new ZipError(`${name} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    }
    let content: Buffer;
    try {
      content = method === STORED ? Buffer.from(data) : inflateRawSync(data, { maxOutputLength: maxBytes });
    } catch (error) {
      throw new ZipError(`${name} does not inflate: ${(error as Error).message}`);
    }
    if (content.length !== size || crc32(content) !== crc) throw new ZipError(`${name} does not match its size and CRC-32 in the archive`);
    return content;
  }
  return undefined;
}

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset--) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) {
      if (zip.readUInt16LE(offset + 4) !== 0 || zip.readUInt16LE(offset + 6) !== 0) throw new ZipError('multi-disk archives are not supported');
      if (zip.readUInt16LE(offset + 10) === 0xffff || zip.readUInt32LE(offset + 16) === 0xffffffff) throw new ZipError('ZIP64 archives are not supported');
      return offset;
    }
  }
  throw new ZipError('not a ZIP archive (no end of central directory record)');
}

/** An archive of `files` (name → content), deflated, with a fixed timestamp so equal content gives equal bytes. */
export function writeZip(files: ReadonlyArray<readonly [string, Uint8Array]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = deflateRawSync(content);
    const crc = crc32(content);
    // Version 2.0, UTF-8 names (bit 11), deflate, 1980-01-01 00:00 (DOS date 0x21).
    const common = (header: Buffer, at: number) => {
      header.writeUInt16LE(0x0800, at);
      header.writeUInt16LE(DEFLATED, at + 2);
      header.writeUInt16LE(0, at + 4);
      header.writeUInt16LE(0x21, at + 6);
      header.writeUInt32LE(crc, at + 8);
      header.writeUInt32LE(data.length, at + 12);
      header.writeUInt32LE(content.length, at + 16);
      header.writeUInt16LE(nameBytes.length, at + 20);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(20, 4);
    common(local, 6);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_HEADER, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    common(central, 8);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
