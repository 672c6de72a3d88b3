// Lists the files of a zip from its central directory (PKWARE APPNOTE 4.3.12/4.3.16), without
// inflating anything. The code-snapshot browser uses it on what GET /api/runs/{id}/assets/download
// serves for a snapshot: the v0.6 / zip-mode blob (a plain file, so only its tail is fetched with a
// Range request) or a manifest-mode snapshot (the server streams the manifest's files as a zip; no
// route lists a manifest's files as JSON, so the zip is read whole). ZIP64 archives are refused.

export interface ZipEntry {
  name: string;
  size: number;
  compressed_size: number;
  /** true for a directory entry (name ends with '/'). */
  dir: boolean;
}

const kEocdSig = 0x06054b50;
const kCentralSig = 0x02014b50;
const kEocdMin = 22;
const kMaxComment = 0xffff;

export class ZipListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipListError';
  }
}

interface Eocd { entries: number; cd_size: number; cd_offset: number }

/** Finds the end-of-central-directory record in `buf` (the last `buf.byteLength` bytes of the zip). */
function find_eocd(buf: DataView): { eocd: Eocd; at: number } {
  const end = buf.byteLength;
  for (let i = end - kEocdMin; i >= Math.max(0, end - kEocdMin - kMaxComment); --i) {
    if (buf.getUint32(i, true) !== kEocdSig) continue;
    const comment_len = buf.getUint16(i + 20, true);
    if (i + kEocdMin + comment_len > end) continue;
    const eocd = { entries: buf.getUint16(i + 10, true), cd_size: buf.getUint32(i + 12, true), cd_offset: buf.getUint32(i + 16, true) };
    if (eocd.entries === 0xffff || eocd.cd_size === 0xffffffff || eocd.cd_offset === 0xffffffff) {
      throw new ZipListError('ZIP64 archives are not supported');
    }
    return { eocd, at: i };
  }
  throw new ZipListError('not a zip file (no end-of-central-directory record)');
}

/** Parses `count` central-directory headers starting at byte `pos` of `buf`. */
function parse_central(buf: DataView, pos: number, count: number): ZipEntry[] {
  const utf8 = new TextDecoder('utf-8');
  const out: ZipEntry[] = [];
  for (let n = 0; n < count; ++n) {
    if (pos + 46 > buf.byteLength || buf.getUint32(pos, true) !== kCentralSig) {
      throw new ZipListError('damaged central directory');
    }
    const compressed_size = buf.getUint32(pos + 20, true);
    const size = buf.getUint32(pos + 24, true);
    const name_len = buf.getUint16(pos + 28, true);
    const extra_len = buf.getUint16(pos + 30, true);
    const comment_len = buf.getUint16(pos + 32, true);
    if (pos + 46 + name_len > buf.byteLength) throw new ZipListError('damaged central directory');
    const name = utf8.decode(new Uint8Array(buf.buffer, buf.byteOffset + pos + 46, name_len));
    out.push({ name, size, compressed_size, dir: name.endsWith('/') });
    pos += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

/**
 * Lists a zip given its last bytes. `tail` holds bytes [total - tail.byteLength, total) of the
 * archive. Returns the entries, or the byte range [from, to) of the central directory to fetch
 * when it does not lie inside `tail`.
 */
export function list_zip_tail(tail: ArrayBuffer, total: number): ZipEntry[] | { from: number; to: number } {
  const view = new DataView(tail);
  const { eocd } = find_eocd(view);
  const start = total - tail.byteLength;
  if (eocd.cd_offset >= start) return parse_central(view, eocd.cd_offset - start, eocd.entries);
  return { from: eocd.cd_offset, to: eocd.cd_offset + eocd.cd_size };
}

/** Lists a whole zip held in memory. */
export function list_zip(buf: ArrayBuffer): ZipEntry[] {
  const r = list_zip_tail(buf, buf.byteLength);
  if (Array.isArray(r)) return r;
  throw new ZipListError('damaged central directory');
}

/** Total size from a `Content-Range: bytes a-b/total` header, or null. */
function range_total(header: string | null): number | null {
  const m = header?.match(/\/(\d+)\s*$/);
  return m ? Number(m[1]) : null;
}

async function checked(res: Response): Promise<Response> {
  if (res.ok) return res;
  let detail = `HTTP ${res.status}`;
  try {
    const body = await res.json() as { detail?: unknown };
    if (typeof body?.detail === 'string') detail = body.detail;
  } catch {
    // not JSON: keep the status
  }
  throw new ZipListError(detail);
}

/**
 * Fetches the listing of the zip at `url`: the last 64 KiB first (Range); a server that ignores
 * Range answers 200 with the whole archive, which is listed as it is.
 */
export async function fetch_zip_listing(url: string, signal?: AbortSignal): Promise<ZipEntry[]> {
  const tail_bytes = kEocdMin + kMaxComment;
  const res = await checked(await fetch(url, { headers: { Range: `bytes=-${tail_bytes}` }, credentials: 'same-origin', signal }));
  const buf = await res.arrayBuffer();
  const total = res.status === 206 ? range_total(res.headers.get('Content-Range')) : buf.byteLength;
  if (total === null) throw new ZipListError('the server sent no Content-Range');
  const r = list_zip_tail(buf, total);
  if (Array.isArray(r)) return r;
  const cd = await checked(await fetch(url, { headers: { Range: `bytes=${r.from}-${r.to - 1}` }, credentials: 'same-origin', signal }));
  const cd_buf = await cd.arrayBuffer();
  if (cd.status !== 206) return list_zip(cd_buf);
  const view = new DataView(cd_buf);
  const { eocd } = find_eocd(new DataView(buf));
  return parse_central(view, 0, eocd.entries);
}
