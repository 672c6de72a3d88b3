// Page-level tests with a mocked fetch: the run table shows server data and paging, a failing
// server gives the designed error state, and the recycle bin restores runs.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { App as AntApp } from 'antd';
import '../i18n';
import Experiments from './Experiments';
import RecycleBin from './RecycleBin';
import SystemMonitor from './SystemMonitor';

type Handler = (url: string, init?: RequestInit) => Response | undefined;
let handler: Handler;
const calls: { url: string; init?: RequestInit }[] = [];

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

beforeEach(() => {
  calls.length = 0;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = String(input);
    calls.push({ url, init });
    return handler(url, init) ?? json({ detail: 'Not Found', code: 'NOT_FOUND' }, 404);
  });
});
afterEach(() => vi.restoreAllMocks());

function wrap(node: JSX.Element) {
  return render(<AntApp><MemoryRouter>{node}</MemoryRouter></AntApp>);
}

const run = (id: string, extra: Record<string, unknown> = {}) => ({
  id, run_dir: `/s/runs/${id}`, created_time: 1736942400, status: 'finished', pid: 1, best_metric_value: 0.93,
  best_metric_name: 'acc', path: 'cv/yolo', alias: null, tags: ['baseline'], assets_count: 2, duration: 65, last_step: 100, ...extra,
});

describe('Experiments', () => {
  it('renders the first page with the server total and asks for the next page with the cursor', async () => {
    handler = (url) => {
      if (url.startsWith('/api/runs?') && url.includes('limit=50')) {
        return url.includes('cursor=next1')
          ? json([run('20250115_000000_bbbbbb')], 200, { 'X-Total-Count': '51' })
          : json([run('20250115_000001_aaaaaa', { status: 'running', alias: 'best-one' }), run('20250115_000002_aaaaaa')],
                 200, { 'X-Total-Count': '51', 'X-Next-Cursor': 'next1' });
      }
      if (url.startsWith('/api/runs?')) return json([run('x')], 200, { 'X-Total-Count': '7' });
      if (url.startsWith('/api/paths')) return json({ paths: ['cv', 'cv/yolo'], tree: {}, stats: { cv: { total: 51, running: 1, finished: 50, failed: 0 }, 'cv/yolo': { total: 51, running: 1, finished: 50, failed: 0 } } });
      if (url === '/api/projects') return json({ projects: ['cv'] });
      return undefined;
    };
    wrap(<Experiments />);
    expect(await screen.findByText('best-one')).toBeInTheDocument();
    expect(screen.getByTestId('page-range')).toHaveTextContent('1–2 of 51');
    expect(screen.getAllByText('Running').length).toBeGreaterThan(0);
    fireEvent.click(screen.getByTestId('next-page'));
    expect(await screen.findByText('20250115_000000_bbbbbb')).toBeInTheDocument();
    expect(calls.some((c) => c.url.includes('cursor=next1'))).toBe(true);
    expect(screen.queryByText('best-one')).not.toBeInTheDocument();
  });

  it('shows the filter error message and position from the server', async () => {
    handler = (url) => {
      if (url.startsWith('/api/runs?') && url.includes('q=')) {
        return json({ detail: { code: 'FILTER_SYNTAX', message: 'expected a value', position: 12 }, code: 'FILTER_SYNTAX' }, 400);
      }
      if (url.startsWith('/api/runs?')) return json([run('a')], 200, { 'X-Total-Count': '1' });
      if (url.startsWith('/api/paths')) return json({ paths: [], tree: {}, stats: {} });
      if (url === '/api/projects') return json({ projects: [] });
      return undefined;
    };
    wrap(<Experiments />);
    await screen.findAllByText('a');
    const box = screen.getByPlaceholderText(/Search runs/);
    fireEvent.change(box, { target: { value: 'summary.acc >' } });
    fireEvent.keyDown(box, { key: 'Enter', code: 'Enter', keyCode: 13 });
    expect(await screen.findByTestId('filter-error')).toHaveTextContent('position 12: expected a value');
  });

  it('shows an error state, not a crash, when the server fails', async () => {
    handler = (url) => (url.startsWith('/api/runs') ? json({ detail: 'storage plugin not loaded', code: 'UNAVAILABLE' }, 503) : undefined);
    wrap(<Experiments />);
    expect(await screen.findByText('storage plugin not loaded')).toBeInTheDocument();
    expect(screen.getAllByText('Retry').length).toBeGreaterThan(0);
  });

  it('pages in the browser when the server ignores limit (no X-Total-Count)', async () => {
    handler = (url) => {
      if (url.startsWith('/api/runs')) return json(Array.from({ length: 60 }, (_, i) => run(`r${i}`, { tags: [] })));
      if (url.startsWith('/api/paths')) return json({ paths: [], tree: {} });
      if (url === '/api/projects') return json({ projects: [] });
      return undefined;
    };
    wrap(<Experiments />);
    expect(await screen.findByTestId('page-range')).toHaveTextContent('1–50 of 60');
  });
});

describe('RecycleBin', () => {
  it('lists deleted runs and restores the chosen one', async () => {
    let restored = false;
    handler = (url, init) => {
      if (url === '/api/recycle-bin') {
        return json({ deleted_runs: restored ? [] : [{ id: '20250115_123000_6e554c', path: 'nlp/t5', alias: null, created_time: 1, deleted_at: 2,
                                                       delete_reason: 'user_deleted', original_status: 'finished', run_dir: '/x' }] });
      }
      if (url === '/api/recycle-bin/restore' && init?.method === 'POST') {
        restored = true;
        return json({ restored_count: 1, results: {}, message: 'Restored 1 of 1 runs' });
      }
      return undefined;
    };
    wrap(<RecycleBin />);
    expect(await screen.findByText('20250115_123000_6e554c')).toBeInTheDocument();
    fireEvent.click(screen.getAllByText('Restore').find((el) => el.closest('tr'))!);
    await waitFor(() => expect(screen.queryByText('20250115_123000_6e554c')).not.toBeInTheDocument());
    const body = calls.find((c) => c.url === '/api/recycle-bin/restore')!.init!.body;
    expect(JSON.parse(String(body))).toEqual({ run_ids: ['20250115_123000_6e554c'] });
    expect(await screen.findByText('The recycle bin is empty')).toBeInTheDocument();
  });
});

describe('SystemMonitor', () => {
  it('shows the no-GPU state with the server reason', async () => {
    handler = (url) => {
      if (url === '/api/system/monitor') {
        return json({ available: true, ts: 1, cpu: { percent: 12.5, count: 2, logical_count: 4, per_core: [10, 15], load_avg: [0.1, 0.2, 0.3] },
                      memory: { total: 8e9, available: 4e9, used: 4e9, percent: 50, swap_total: 0, swap_used: 0, swap_percent: 0 },
                      disk: { path: '/data', total: 1e12, used: 5e11, free: 5e11, percent: 50 }, platform: { system: 'Linux', release: '6.1', machine: 'x86_64' } });
      }
      if (url === '/api/gpu/telemetry') return json({ available: false, reason: 'nvidia-smi not found in PATH' });
      return undefined;
    };
    wrap(<SystemMonitor />);
    expect(await screen.findByTestId('no-gpu')).toHaveTextContent('nvidia-smi not found in PATH');
    expect(screen.getByText('No GPU detected')).toBeInTheDocument();
  });
});
