// Shapes of the server's JSON (spec/API.md). Fields the UI does not read are left out; unknown
// fields are ignored (API.md §1.1 additive evolution).

export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted' | string;

export interface RunListItem {
  id: string;
  run_dir: string;
  created_time: number | null;
  status: RunStatus;
  pid: number | null;
  best_metric_value: number | string | null;
  best_metric_name: string | null;
  path: string | null;
  alias: string | null;
  tags: string[];
  assets_count: number;
  started_at?: number | null;
  ended_at?: number | null;
  duration?: number | null;
  exit_reason?: string | null;
  liveness?: string;
  hostname?: string | null;
  last_step?: number | null;
  summary?: Record<string, unknown>;
  config?: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

export interface RunDetail extends RunListItem {
  logs: string;
  metrics: string;
  assets: Record<string, unknown> | null;
  media_count?: number;
  artifacts?: unknown;
}

export interface PathStats {
  total: number;
  running: number;
  finished: number;
  failed: number;
}

export interface PathsResponse {
  paths: string[];
  tree: Record<string, unknown>;
  stats?: Record<string, PathStats>;
}

export interface DeletedRun {
  id: string;
  path: string | null;
  alias: string | null;
  created_time: number | null;
  deleted_at: number | null;
  delete_reason: string;
  original_status: string;
  run_dir: string;
}

export type SeriesValue = number | 'NaN' | 'Infinity' | '-Infinity' | null;

export interface Series {
  key: string;
  total: number;
  returned: number;
  nonfinite_total?: number;
  x: number[];
  y: SeriesValue[];
  stages?: [number, string][];
  truncated?: boolean;
}

export interface SeriesResponse {
  run_id: string;
  x: string;
  method: string;
  points: number;
  series: Series[];
  last_step: number | null;
  last_time: number | null;
  cursor?: string;
}

export interface MetricRow {
  global_step: number | null;
  time: number | null;
  stage: string | null;
  values: Record<string, SeriesValue>;
}

export interface MetricsStepResponse {
  columns: string[];
  rows: Record<string, unknown>[];
  total: number;
  sampled: number;
}

export interface MediaItem {
  key: string;
  path: string;
  step: number | null;
  global_step: number | null;
  caption: string | null;
  ts: number | null;
  format: string | null;
  size_bytes: number | null;
  width: number | null;
  height: number | null;
  url: string;
}

export interface MediaResponse {
  run_id: string;
  keys: { key: string; count: number }[];
  items: MediaItem[];
  next_cursor: string | null;
}

export interface GpuInfo {
  index: number;
  name: string;
  util_gpu: number | null;
  util_mem: number | null;
  mem_total_mib: number | null;
  mem_used_mib: number | null;
  temp_c: number | null;
  power_w: number | null;
  power_limit_w: number | null;
  mem_used_pct: number | null;
}

export interface GpuTelemetry {
  available: boolean;
  reason?: string;
  ts?: number;
  gpus?: GpuInfo[];
}

export interface SystemMonitor {
  available: boolean;
  ts?: number;
  cpu?: { percent: number; count: number; logical_count: number; per_core: number[];
          load_avg: number[] | null };
  memory?: { total: number; available: number; used: number; percent: number;
             swap_total: number; swap_used: number; swap_percent: number };
  disk?: { path: string; total: number; used: number; free: number; percent: number };
  platform?: { system: string; release: string; machine: string };
}

export interface LocaleInfo {
  code: string;
  name: string;
  native_name: string;
  completeness: number;
}

export interface LocalesResponse {
  default: string;
  negotiated: string;
  locales: LocaleInfo[];
}

export interface AssetItem {
  asset_type: string;
  fingerprint_kind: string | null;
  fingerprint: string | null;
  archive_path: string | null;
  name: string | null;
  source: string | null;
  archived: boolean;
  size_bytes: number | null;
  file_count: number | null;
  run_count: number;
  last_used_at: number | null;
  last_run_id: string | null;
}

export interface SizeInfo {
  size_bytes: number;
  size_human: string;
}

export interface StorageStats {
  storage_root: string;
  total: SizeInfo;
  runs: SizeInfo & { runs_count: number; experiments_count: number; projects_count: number;
                     deleted_count?: number };
  archive?: SizeInfo;
  index?: SizeInfo;
}

// ---- Artifacts and blob store (API.md §4.5, §4.6) — owned by the Artifacts page ----

export interface ArtifactRunRef {
  run_id: string;
  path: string | null;
  run_dir?: string;
  hostname?: string;
}

export interface ArtifactListItem {
  name: string;
  type: string;
  description: string;
  created_at: number | null;
  updated_at: number | null;
  latest_version: number;
  version_count: number;
  aliases: Record<string, number>;
  total_size_bytes: number;
}

export interface ArtifactVersion {
  name: string;
  type: string;
  version: number;
  digest: string;
  created_at: number | null;
  description: string;
  metadata: Record<string, unknown>;
  file_count: number;
  total_size_bytes: number;
  aliases: string[];
  produced_by: ArtifactRunRef | null;
  latest?: boolean;
}

export interface ArtifactDetail extends ArtifactListItem {
  versions: ArtifactVersion[];
}

export interface ArtifactFile {
  path: string;
  size_bytes: number;
  sha256: string;
}

export interface ArtifactLineageRun {
  run_id: string;
  path: string | null;
  status: string;
  used_at?: number | null;
  requested?: string;
}

export interface ArtifactLineage {
  produced_by: ArtifactLineageRun | null;
  used_by: ArtifactLineageRun[];
}

export interface AliasChange {
  ok: boolean;
  alias: string;
  version: number;
  previous_version: number | null;
}

export interface BlobStats {
  blob_count: number;
  physical_bytes: number;
  referenced_bytes: number;
  saved_bytes: number;
  dedup_ratio: number;
  hardlinked_copies?: number;
  unreferenced_count?: number;
  unreferenced_bytes?: number;
  by_referrer?: { runs?: number; artifacts?: number; v0_6_index?: number };
  computed_at?: number;
}
