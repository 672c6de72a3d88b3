// The Artifacts page against a mocked fetch: the list with its filters, the blob-store statistics,
// an artifact's versions and aliases (move, reserved names refused, remove), deleting a version,
// the lineage links, and the designed states of a server without artifacts. Plus the pure helpers
// of the lineage graph and of the code-snapshot browser (zip listing, snapshot fields).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { App as AntApp } from 'antd';
import '../i18n';
import Artifacts from './Artifacts';
import Assets from './Assets';
import { lineage_layout } from '../components/LineageGraph';
import { ArtifactAliasModal, alias_problem } from '../components/ArtifactAliasModal';
import { format_ratio } from '../components/ArtifactBlobStats';
import { list_zip, list_zip_tail, ZipListError } from '../components/CodeSnapshotZip';
import { snapshot_download_url, snapshot_info } from '../components/CodeSnapshot';
import { asset_rows } from '../components/RunAssets';

// ECharts needs a canvas, which jsdom lacks: the graph itself is never initialised here; the
// lineage is checked through its links and its layout function.
// A loaded CI box renders Ant Design slowly: wait generously for each expected change (no duration is
// asserted anywhere).
configure({ asyncUtilTimeout: 15000 });
vi.setConfig({ testTimeout: 120000 });

vi.mock('../components/EChart', () => ({ load_echarts: () => new Promise(() => {}) }));

type Handler = (url: string, init?: RequestInit) => Response | undefined;
let handler: Handler;
const calls: { url: string; method: string; body?: string }[] = [];

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

beforeEach(() => {
  calls.length = 0;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = String(input);
    calls.push({ url, method: init?.method ?? 'GET', body: init?.body as string | undefined });
    return handler(url, init) ?? json({ detail: 'Not Found', code: 'NOT_FOUND' }, 404);
  });
});
afterEach(() => vi.restoreAllMocks());

function wrap(path: string) {
  return render(
    <AntApp>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/artifacts" element={<Artifacts />} />
          <Route path="/artifacts/:name" element={<Artifacts />} />
          <Route path="/runs/:runId" element={<div data-testid="run-page" />} />
        </Routes>
      </MemoryRouter>
    </AntApp>);
}

const stats = {
  blob_count: 4, physical_bytes: 3 * 1024 * 1024, referenced_bytes: 9 * 1024 * 1024, saved_bytes: 6 * 1024 * 1024,
  dedup_ratio: 3, hardlinked_copies: 0, unreferenced_count: 1, unreferenced_bytes: 10,
  by_referrer: { runs: 1, artifacts: 2, v0_6_index: 0 }, computed_at: 1795674300,
};
const item = (name: string, type: string, aliases: Record<string, number> = {}) => ({
  name, type, description: '', created_at: 1795674000, updated_at: 1795674300, latest_version: 2, version_count: 2, aliases,
  total_size_bytes: 2048,
});
const version = (n: number, aliases: string[], extra: Record<string, unknown> = {}) => ({
  name: 'resnet', type: 'model', version: n, digest: `${n}`.repeat(64), created_at: 1795674000 + n, description: `weights ${n}`,
  metadata: { epochs: 10 * n }, file_count: 2, total_size_bytes: 1024, aliases, latest: n === 2,
  produced_by: { run_id: '20250115_121500_5faeb7', path: 'cv/yolo', run_dir: 'runs/cv/yolo/20250115_121500_5faeb7', hostname: 'h' }, ...extra,
});

/** A server with one artifact "resnet" (v1, v2; alias production → v2) whose aliases really move. */
function artifact_server() {
  let aliases: Record<string, number> = { production: 2 };
  let versions = [2, 1];
  handler = (url, init) => {
    const method = init?.method ?? 'GET';
    if (url === '/api/blobs/stats') return json(stats);
    if (url.startsWith('/api/artifacts?')) {
      const all = [item('resnet', 'model', aliases), item('imagenet-mini', 'dataset')];
      const type = new URL(url, 'http://x').searchParams.get('type');
      const q = new URL(url, 'http://x').searchParams.get('q');
      return json({ artifacts: all.filter((a) => (!type || a.type === type) && (!q || a.name.includes(q))), next_cursor: null });
    }
    if (url === '/api/artifacts/resnet' && method === 'GET') {
      return json({ ...item('resnet', 'model', aliases), version_count: versions.length,
                    versions: versions.map((n) => version(n, Object.keys(aliases).filter((a) => aliases[a] === n))) });
    }
    const put = url.match(/^\/api\/artifacts\/resnet\/aliases\/([^/?]+)$/);
    if (put && method === 'PUT') {
      const alias = decodeURIComponent(put[1]);
      const body = JSON.parse(String(init?.body)) as { version: number };
      const previous = aliases[alias] ?? null;
      aliases = { ...aliases, [alias]: body.version };
      return json({ ok: true, alias, version: body.version, previous_version: previous });
    }
    if (put && method === 'DELETE') {
      const { [decodeURIComponent(put[1])]: _gone, ...rest } = aliases;
      aliases = rest;
      return json({ ok: true });
    }
    const del = url.match(/^\/api\/artifacts\/resnet\/versions\/v(\d+)\?/);
    if (del && method === 'DELETE') {
      const n = Number(del[1]);
      versions = versions.filter((v) => v !== n);
      const removed = Object.keys(aliases).filter((a) => aliases[a] === n);
      aliases = Object.fromEntries(Object.entries(aliases).filter(([, v]) => v !== n));
      return json({ ok: true, deleted_version: n, removed_aliases: removed });
    }
    if (/\/versions\/v\d+\/files/.test(url)) {
      return json({ files: [{ path: 'weights.bin', size_bytes: 1000, sha256: 'a'.repeat(64) }, { path: 'config.yaml', size_bytes: 24, sha256: 'b'.repeat(64) }], next_cursor: null });
    }
    if (/\/versions\/v\d+\/lineage$/.test(url)) {
      return json({ produced_by: { run_id: '20250115_121500_5faeb7', path: 'cv/yolo', status: 'finished' },
                    used_by: [{ run_id: '20250116_090000_aaaaaa', path: 'cv/eval', status: 'running', used_at: 1795675000, requested: 'resnet:production' }] });
    }
    return undefined;
  };
}

describe('Artifacts page', () => {
  it('lists artifacts, filters by type and name, and shows the blob-store statistics', async () => {
    artifact_server();
    wrap('/artifacts');
    expect(await screen.findByTestId('artifact-link-resnet')).toBeInTheDocument();
    expect(screen.getByTestId('artifact-link-imagenet-mini')).toBeInTheDocument();
    expect(screen.getByText('production → v2')).toBeInTheDocument();
    const blob = screen.getByTestId('blob-stats');
    await within(blob).findByText('6.00 MB');
    expect(within(blob).getByText('3.00×')).toBeInTheDocument();
    expect(within(blob).getByText('3.00 MB stored for 9.00 MB referenced')).toBeInTheDocument();

    const search = screen.getByPlaceholderText('Search by name');
    fireEvent.change(search, { target: { value: 'imagenet' } });
    fireEvent.keyDown(search, { key: 'Enter', code: 'Enter', keyCode: 13 });
    fireEvent.keyUp(search, { key: 'Enter', code: 'Enter', keyCode: 13 }); // rc-input ignores a second Enter until key-up
    await waitFor(() => expect(screen.queryByTestId('artifact-link-resnet')).not.toBeInTheDocument());
    expect(calls.some((c) => c.url.includes('/api/artifacts?') && c.url.includes('q=imagenet'))).toBe(true);
    const again = screen.getByPlaceholderText('Search by name');
    fireEvent.change(again, { target: { value: 'zzz' } });
    fireEvent.keyDown(again, { key: 'Enter', code: 'Enter', keyCode: 13 });
    await waitFor(() => expect(calls.some((c) => c.url.includes('q=zzz'))).toBe(true));
    expect(await screen.findByText('No artifact matches the filter')).toBeInTheDocument();
  });

  it('opens an artifact, moves an alias to another version and shows it there', async () => {
    artifact_server();
    wrap('/artifacts/resnet');
    const v2 = await screen.findByTestId('aliases-v2');
    expect(within(v2).getByText('production')).toBeInTheDocument();
    expect(await screen.findByText('weights.bin')).toBeInTheDocument();
    // The version's files link to the hash-checked file route; the zip to /download.
    expect(screen.getByLabelText('Download weights.bin')).toHaveAttribute('href', '/api/artifacts/resnet/versions/v2/file?path=weights.bin');
    expect(screen.getByTestId('artifact-zip')).toHaveAttribute('href', '/api/artifacts/resnet/versions/v2/download');

    fireEvent.click(screen.getByLabelText('Set alias v1'));
    const input = await screen.findByLabelText('Alias', { selector: 'input' });
    fireEvent.change(input, { target: { value: 'production' } });
    expect(await screen.findByText('production will move from v2 to v1.')).toBeInTheDocument();
    fireEvent.click(screen.getByText('Move alias', { selector: 'button span' }));
    await waitFor(() => expect(within(screen.getByTestId('aliases-v1')).getByText('production')).toBeInTheDocument());
    expect(within(screen.getByTestId('aliases-v2')).queryByText('production')).not.toBeInTheDocument();
    const put = calls.find((c) => c.method === 'PUT');
    expect(put?.url).toBe('/api/artifacts/resnet/aliases/production');
    expect(JSON.parse(put?.body ?? '{}')).toEqual({ version: 1 });
  });

  it('refuses reserved and invalid aliases before asking the server', async () => {
    handler = () => undefined;
    render(<AntApp><ArtifactAliasModal open name="resnet" versions={[2, 1]} aliases={{ production: 2 }} initial_version={2}
                                       onClose={() => {}} onDone={() => {}} /></AntApp>);
    const input = await screen.findByLabelText('Alias', { selector: 'input' });
    fireEvent.change(input, { target: { value: 'v3' } });
    fireEvent.click(screen.getByText('Set alias', { selector: 'button span' }));
    expect(await screen.findByText('latest and v<N> are reserved')).toBeInTheDocument();
    fireEvent.change(input, { target: { value: '9lives' } });
    expect(await screen.findByText(/Use a letter first/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);
  });

  it('removes an alias and deletes a version after confirmation (force when aliased)', async () => {
    artifact_server();
    wrap('/artifacts/resnet');
    await screen.findByTestId('aliases-v2');
    fireEvent.click(screen.getByLabelText('Remove alias production'));
    fireEvent.click(await screen.findByText('Delete', { selector: '.ant-popconfirm button span' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/artifacts/resnet/aliases/production')).toBe(true));
    await waitFor(() => expect(within(screen.getByTestId('aliases-v2')).queryByText('production')).not.toBeInTheDocument());

    fireEvent.click(screen.getByTestId('delete-v1'));
    expect(await screen.findByText('Delete v1?')).toBeInTheDocument();
    fireEvent.click(document.getElementById('confirm-delete-v1') as HTMLElement);
    await waitFor(() => expect(screen.queryByTestId('select-v1')).not.toBeInTheDocument());
    const del = calls.find((c) => c.method === 'DELETE' && c.url.includes('/versions/v1'));
    expect(del?.url).toBe('/api/artifacts/resnet/versions/v1?confirm=true');
  });

  it('shows the lineage: producing run and the runs that used the version, as links', async () => {
    artifact_server();
    wrap('/artifacts/resnet?v=2');
    fireEvent.click(await screen.findByText('Lineage', { selector: '[role=tab]' }));
    const graph = await screen.findByTestId('lineage-graph');
    expect(graph).toHaveAttribute('data-nodes', '3');
    const links = await within(graph).findAllByTestId('lineage-run-link');
    expect(links.map((l) => l.getAttribute('href'))).toEqual(['/runs/20250115_121500_5faeb7', '/runs/20250116_090000_aaaaaa']);
    expect(within(graph).getByText('resnet:production')).toBeInTheDocument();
    fireEvent.click(links[1]);
    expect(await screen.findByTestId('run-page')).toBeInTheDocument();
  });

  it('gives designed states for a server without artifacts and an unknown artifact', async () => {
    handler = (url) => (url.startsWith('/api/artifacts') || url === '/api/blobs/stats'
      ? json({ detail: 'Plugin not loaded', code: 'UNAVAILABLE' }, 503) : undefined);
    wrap('/artifacts');
    expect(await screen.findByTestId('artifacts-unavailable')).toHaveTextContent('dedup plugin is not loaded');
    expect(await within(screen.getByTestId('blob-stats')).findByText('Plugin not loaded')).toBeInTheDocument();
  });

  it('says so when the artifact in the URL does not exist', async () => {
    handler = (url) => {
      if (url.startsWith('/api/artifacts?')) return json({ artifacts: [], next_cursor: null });
      if (url === '/api/blobs/stats') return json(stats);
      if (url === '/api/artifacts/ghost') return json({ detail: 'Artifact not found', code: 'ARTIFACT_NOT_FOUND' }, 404);
      return undefined;
    };
    wrap('/artifacts/ghost');
    expect(await screen.findByText('Artifact ghost was not found')).toBeInTheDocument();
    expect(await screen.findByText('No artifacts yet')).toBeInTheDocument();
  });
});

describe('Assets page', () => {
  it('shows a designed state when the server has no assets overview (404)', async () => {
    handler = (url) => (url === '/api/storage/stats'
      ? json({ storage_root: '/s', total: { size_bytes: 1, size_human: '1 B' }, runs: { size_bytes: 1, size_human: '1 B', runs_count: 1, experiments_count: 1, projects_count: 1 } })
      : undefined);
    render(<AntApp><MemoryRouter><Assets /></MemoryRouter></AntApp>);
    expect(await screen.findByTestId('assets-unavailable')).toHaveTextContent('does not list assets across runs');
  });

  it('lists assets and loads the next page with the cursor', async () => {
    const asset = (n: number) => ({ asset_type: 'dataset', fingerprint_kind: 'sha256_manifest', fingerprint: `fp${n}`, archive_path: null,
                                    name: `ds${n}`, source: `/data/ds${n}`, archived: true, size_bytes: 12, file_count: 2, run_count: 1,
                                    last_used_at: 1795674000, last_run_id: 'r1' });
    handler = (url) => {
      if (url.startsWith('/api/assets')) {
        return url.includes('cursor=c1')
          ? json({ assets: [asset(3)], next_cursor: null }, 200, { 'X-Total-Count': '3' })
          : json({ assets: [asset(1), asset(2)], next_cursor: 'c1' }, 200, { 'X-Total-Count': '3' });
      }
      return undefined;
    };
    render(<AntApp><MemoryRouter><Assets /></MemoryRouter></AntApp>);
    expect(await screen.findByText('ds2')).toBeInTheDocument();
    expect(screen.getByTestId('assets-count')).toHaveTextContent('Showing 2 of 3');
    fireEvent.click(screen.getByTestId('assets-more'));
    expect(await screen.findByText('ds3')).toBeInTheDocument();
    expect(screen.getByTestId('assets-count')).toHaveTextContent('Showing 3 of 3');
    expect(screen.queryByTestId('assets-more')).not.toBeInTheDocument();
  });
});

describe('lineage layout', () => {
  it('places producer, version and each distinct user; caps the users', () => {
    const l = lineage_layout('v2', {
      produced_by: { run_id: 'p', path: null, status: 'finished' },
      used_by: [{ run_id: 'a', path: 'x', status: 'running' }, { run_id: 'a', path: 'x', status: 'running' }, { run_id: 'b', path: null, status: 'failed' }],
    });
    expect(l.nodes.map((n) => [n.id, n.x, n.y])).toEqual([['version', 1, 0.5], ['p:p', 0, 0.5], ['u:a', 2, 0], ['u:b', 2, 1]]);
    expect(l.edges).toEqual([{ source: 'p:p', target: 'version' }, { source: 'version', target: 'u:a' }, { source: 'version', target: 'u:b' }]);
    const many = lineage_layout('v1', { produced_by: null, used_by: Array.from({ length: 45 }, (_, i) => ({ run_id: `r${i}`, path: null, status: '' })) });
    expect(many.nodes.filter((n) => n.kind === 'user')).toHaveLength(40);
    expect(many.nodes.find((n) => n.kind === 'more')?.name).toBe('+5');
    expect(lineage_layout('v1', undefined).nodes).toHaveLength(1);
  });

  it('validates aliases as the server does and formats the ratio', () => {
    expect(alias_problem('production')).toBeNull();
    expect(alias_problem('best.v2-x_y')).toBeNull();
    expect(alias_problem('')).toBe('artifacts.alias_required');
    expect(alias_problem('latest')).toBe('artifacts.alias_reserved');
    expect(alias_problem('v12')).toBe('artifacts.alias_reserved');
    expect(alias_problem('1st')).toBe('artifacts.alias_invalid');
    expect(alias_problem('a/b')).toBe('artifacts.alias_invalid');
    expect(alias_problem(`a${'b'.repeat(64)}`)).toBe('artifacts.alias_invalid');
    expect(format_ratio(2.345)).toBe('2.35×');
    expect(format_ratio(Number.NaN)).toBe('—');
  });
});

/** A stored (uncompressed) zip of `files`, as any zip writer lays it out; CRCs are not checked. */
function make_zip(files: Record<string, string>, comment = ''): ArrayBuffer {
  const enc = new TextEncoder();
  const local: number[] = [];
  const central: number[] = [];
  const u16 = (a: number[], v: number) => a.push(v & 0xff, (v >> 8) & 0xff);
  const u32 = (a: number[], v: number) => { u16(a, v & 0xffff); u16(a, (v >>> 16) & 0xffff); };
  let count = 0;
  for (const [name, text] of Object.entries(files)) {
    const n = enc.encode(name), d = enc.encode(text), offset = local.length;
    u32(local, 0x04034b50); u16(local, 20); u16(local, 0x800); u16(local, 0); u16(local, 0); u16(local, 0);
    u32(local, 0); u32(local, d.length); u32(local, d.length); u16(local, n.length); u16(local, 0);
    local.push(...n, ...d);
    u32(central, 0x02014b50); u16(central, 20); u16(central, 20); u16(central, 0x800); u16(central, 0); u16(central, 0); u16(central, 0);
    u32(central, 0); u32(central, d.length); u32(central, d.length); u16(central, n.length); u16(central, 0); u16(central, 0);
    u16(central, 0); u16(central, 0); u32(central, 0); u32(central, offset);
    central.push(...n);
    ++count;
  }
  const c = enc.encode(comment);
  const end: number[] = [];
  u32(end, 0x06054b50); u16(end, 0); u16(end, 0); u16(end, count); u16(end, count);
  u32(end, central.length); u32(end, local.length); u16(end, c.length);
  end.push(...c);
  return new Uint8Array([...local, ...central, ...end]).buffer;
}

describe('code snapshot browser', () => {
  it('lists a zip from its central directory, whole or from its tail', () => {
    const zip = make_zip({ 'train.py': 'print(1)\n', 'pkg/': '', 'pkg/模型.py': 'x = 1\n' }, 'a comment');
    const entries = list_zip(zip);
    expect(entries.map((e) => [e.name, e.size, e.dir])).toEqual([['train.py', 9, false], ['pkg/', 0, true], ['pkg/模型.py', 6, false]]);
    // The last 60 bytes hold the end record but not the whole central directory: ask for its range.
    const total = zip.byteLength;
    const r = list_zip_tail(zip.slice(total - 60), total);
    expect(Array.isArray(r)).toBe(false);
    const { from, to } = r as { from: number; to: number };
    expect(new DataView(zip.slice(from, to)).getUint32(0, true)).toBe(0x02014b50);
    expect(list_zip_tail(zip.slice(from), total)).toHaveLength(3);
  });

  it('refuses what is not a zip', () => {
    expect(() => list_zip(new TextEncoder().encode('not a zip at all, just text that is long enough').buffer)).toThrow(ZipListError);
    const zip = new Uint8Array(make_zip({ 'a.txt': 'a' }));
    zip[zip.length - 22 + 16] = 3; // central directory offset now points into the local header
    expect(() => list_zip(zip.buffer)).toThrow(/damaged/);
  });

  it('reads both snapshot formats from assets.json and builds the download link', () => {
    expect(snapshot_info({ code: {} })).toBeNull();
    expect(snapshot_info(null)).toBeNull();
    const m = snapshot_info({ code: { snapshot: { format: 'manifest', workspace_root: '/w', manifest_path: '/s/archive/manifests/code/ab/ab.json',
                                                  archive_path: '/s/archive/manifests/code/ab/ab.json', file_count: 3, total_size_bytes: 99, fingerprint: 'ab' } } });
    expect(m).toMatchObject({ format: 'manifest', file_count: 3, target: '/s/archive/manifests/code/ab/ab.json' });
    expect(snapshot_download_url('r1', m!)).toBe('/api/runs/r1/assets/download?path=%2Fs%2Farchive%2Fmanifests%2Fcode%2Fab%2Fab.json&filename=code_snapshot');
    const z = snapshot_info({ code: { snapshot: { saved: true, workspace_root: '/w', archive_path: '/s/archive/blobs/cd/cd', fingerprint_kind: 'sha256', fingerprint: 'cd' } } });
    expect(z).toMatchObject({ format: 'zip', file_count: null, target: '/s/archive/blobs/cd/cd' });
    expect(snapshot_download_url('r1', z!)).toContain('filename=code_snapshot.zip');
    expect(asset_rows({ code: { snapshot: { format: 'manifest', manifest_path: '/m.json', workspace_root: '/w' } },
                        datasets: [{ name: 'ds', uri: '/data/ds', saved: true, archive_path: '/a.json' }] })
      .map((r) => [r.type, r.download, r.filename])).toEqual([['code_snapshot', '/m.json', 'code_snapshot'], ['dataset', '/a.json', 'ds']]);
  });
});
