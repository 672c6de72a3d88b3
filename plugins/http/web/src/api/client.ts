// Thin fetch wrapper for the REST API (spec/API.md). Every failure becomes an ApiError carrying the
// HTTP status and the server's {"detail", "code"} so pages can show a designed error state.
import type { RunListItem } from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly detail: unknown;

  constructor(status: number, message: string, code: string | null, detail: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** Turns an error body (API.md §1.2, or anything else) into a readable message. */
export function detail_message(body: unknown, status: number): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === 'string') return d;
    if (Array.isArray(d)) {
      return d.map((e) => (e && typeof e === 'object' && 'msg' in e ? String(e.msg) : String(e))).join('; ');
    }
    if (d && typeof d === 'object' && 'message' in d) return String((d as { message: unknown }).message);
  }
  return `HTTP ${status}`;
}

let current_language = 'en';
/** The UI language, sent as ?lng= nowhere but as Accept-Language so `detail` texts match the UI. */
export function set_api_language(lng: string): void {
  current_language = lng;
}

async function parse_body(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function request<T>(method: string, url: string, body?: unknown,
                                 signal?: AbortSignal): Promise<{ data: T; headers: Headers }> {
  const init: RequestInit = {
    method,
    signal,
    headers: { Accept: 'application/json', 'Accept-Language': current_language } as Record<string, string>,
    credentials: 'same-origin',
  };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, (e as Error).message || 'Network error', 'NETWORK', null);
  }
  const parsed = await parse_body(res);
  if (!res.ok) {
    const code = parsed && typeof parsed === 'object' && 'code' in parsed
      ? String((parsed as { code: unknown }).code) : null;
    throw new ApiError(res.status, detail_message(parsed, res.status), code,
                       parsed && typeof parsed === 'object' ? (parsed as { detail?: unknown }).detail : parsed);
  }
  return { data: parsed as T, headers: res.headers };
}

export async function get<T>(url: string, signal?: AbortSignal): Promise<T> {
  return (await request<T>('GET', url, undefined, signal)).data;
}

export async function post<T>(url: string, body: unknown): Promise<T> {
  return (await request<T>('POST', url, body)).data;
}

export async function patch<T>(url: string, body: unknown): Promise<T> {
  return (await request<T>('PATCH', url, body)).data;
}

export async function del<T>(url: string): Promise<T> {
  return (await request<T>('DELETE', url)).data;
}

/** Builds `path?query` leaving out undefined, null and empty values. */
export function with_query(path: string, params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export interface RunQuery {
  limit?: number;
  cursor?: string | null;
  sort?: string;
  order?: 'asc' | 'desc';
  status?: string;
  path?: string | null;
  exact?: boolean;
  tags?: string;
  q?: string;
  deleted?: 'false' | 'true' | 'any';
  include?: string;
}

export interface RunPage {
  runs: RunListItem[];
  total: number | null;
  next_cursor: string | null;
}

/** GET /api/runs with the §4.1 parameters; reads X-Total-Count and X-Next-Cursor. */
export async function list_runs(query: RunQuery, signal?: AbortSignal): Promise<RunPage> {
  const { data, headers } = await request<RunListItem[]>(
    'GET', with_query('/api/runs', { ...query, exact: query.exact ? true : undefined }), undefined, signal);
  const total_header = headers.get('X-Total-Count');
  const runs = Array.isArray(data) ? data : [];
  return {
    runs,
    total: total_header !== null && total_header !== '' ? Number(total_header) : null,
    next_cursor: headers.get('X-Next-Cursor'),
  };
}

/** Follows X-Next-Cursor through every page (run-table export, API.md §4.1). */
export async function list_all_runs(query: RunQuery, on_progress?: (n: number) => void): Promise<RunListItem[]> {
  const out: RunListItem[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10000; ++i) {
    const page: RunPage = await list_runs({ ...query, limit: 1000, cursor });
    out.push(...page.runs);
    on_progress?.(out.length);
    if (!page.next_cursor || page.runs.length === 0) break;
    cursor = page.next_cursor;
  }
  return out;
}

export function ws_url(path: string): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}${path}`;
}

// ---- Artifacts and blob store (API.md §4.5, §4.6) — owned by the Artifacts page ----
// Names, refs and aliases are path segments: always encoded.
import type { AliasChange, ArtifactDetail, ArtifactFile, ArtifactLineage, ArtifactListItem,
              BlobStats } from './types';

const seg = encodeURIComponent;

/** The URL of one version (`ref` = v<N>, latest or an alias) plus an optional tail. */
export function artifact_version_url(name: string, ref: string | number, tail = ''): string {
  const r = typeof ref === 'number' ? `v${ref}` : ref;
  return `/api/artifacts/${seg(name)}/versions/${seg(r)}${tail}`;
}

/** Download link of one file of a version (hash-checked by the server). */
export function artifact_file_url(name: string, version: number, path: string): string {
  return with_query(artifact_version_url(name, version, '/file'), { path });
}

/** Download link of a whole version as a zip. */
export function artifact_zip_url(name: string, version: number): string {
  return artifact_version_url(name, version, '/download');
}

export async function list_artifacts(query: { type?: string; q?: string; limit?: number },
                                     signal?: AbortSignal): Promise<{ artifacts: ArtifactListItem[]; next_cursor: string | null }> {
  const data = await get<{ artifacts?: ArtifactListItem[]; next_cursor?: string | null }>(
    with_query('/api/artifacts', { type: query.type, q: query.q, limit: query.limit ?? 1000 }), signal);
  return { artifacts: data?.artifacts ?? [], next_cursor: data?.next_cursor ?? null };
}

export function get_artifact(name: string, signal?: AbortSignal): Promise<ArtifactDetail> {
  return get<ArtifactDetail>(`/api/artifacts/${seg(name)}`, signal);
}

export async function list_artifact_files(name: string, version: number, signal?: AbortSignal): Promise<ArtifactFile[]> {
  // Follows next_cursor (1000 per page) up to 20 pages; a bigger version is shown truncated.
  const out: ArtifactFile[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; ++i) {
    const page: { files?: ArtifactFile[]; next_cursor?: string | null } =
      await get(with_query(artifact_version_url(name, version, '/files'), { limit: 1000, cursor }), signal);
    out.push(...(page?.files ?? []));
    cursor = page?.next_cursor ?? null;
    if (!cursor) break;
  }
  return out;
}

export function get_artifact_lineage(name: string, version: number, signal?: AbortSignal): Promise<ArtifactLineage> {
  return get<ArtifactLineage>(artifact_version_url(name, version, '/lineage'), signal);
}

/** Sets or moves `alias` to `version` (PUT …/aliases/{alias}). */
export async function set_artifact_alias(name: string, alias: string, version: number): Promise<AliasChange> {
  return (await request<AliasChange>('PUT', `/api/artifacts/${seg(name)}/aliases/${seg(alias)}`, { version })).data;
}

export function remove_artifact_alias(name: string, alias: string): Promise<{ ok: boolean }> {
  return del(`/api/artifacts/${seg(name)}/aliases/${seg(alias)}`);
}

/** Deletes a version; `force` also drops the user aliases that point at it. */
export function delete_artifact_version(name: string, version: number, force: boolean):
    Promise<{ ok: boolean; deleted_version: number; removed_aliases: string[] }> {
  return del(with_query(artifact_version_url(name, version), { confirm: true, force: force || undefined }));
}

export function get_blob_stats(signal?: AbortSignal): Promise<BlobStats> {
  return get<BlobStats>('/api/blobs/stats', signal);
}
