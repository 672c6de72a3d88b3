// Page tests for the compare view's group-by bands, the crashed status, the crashed filter fallback
// and the tab titles, with a mocked fetch.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { App as AntApp } from 'antd';
import '../i18n';
import Compare from './Compare';
import Experiments from './Experiments';

type Handler = (url: string) => Response | undefined;
let handler: Handler;
const calls: string[] = [];

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

beforeEach(() => {
  calls.length = 0;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const url = String(input);
    calls.push(url);
    return handler(url) ?? json({ detail: 'Not Found', code: 'NOT_FOUND' }, 404);
  });
});
afterEach(() => vi.restoreAllMocks());

const run = (id: string, extra: Record<string, unknown> = {}) => ({
  id, run_dir: `/s/runs/${id}`, created_time: 1736942400, status: 'finished', pid: 1, best_metric_value: null,
  best_metric_name: null, path: 'cv/yolo', alias: null, tags: [], assets_count: 0, duration: 65, last_step: 100, ...extra,
});

describe('Compare group by', () => {
  it('draws one band per config value and hides a group when toggled off', async () => {
    const lr: Record<string, number> = { r1: 0.1, r2: 0.1, r3: 0.01 };
    handler = (url) => {
      const m = url.match(/^\/api\/runs\/(r\d)(\/series)?/);
      if (m && !m[2]) return json({ ...run(m[1]), assets: { config: { args: { lr: lr[m[1]], seed: Number(m[1][1]) } } }, summary: {} });
      if (m && m[2]) return json({ run_id: m[1], series: [{ key: 'loss', x: [0, 1, 2], y: [1, 0.5, lr[m[1]]], total: 3 }] });
      if (url.startsWith('/api/runs?')) return json([], 200, { 'X-Total-Count': '0' });
      return undefined;
    };
    render(<AntApp><MemoryRouter initialEntries={['/compare?runs=r1,r2,r3&group=lr']}><Compare /></MemoryRouter></AntApp>);
    const card = await screen.findByTestId('compare-chart-loss');
    await waitFor(() => expect(card.getAttribute('data-bands')).toBe('2'));
    const groups = screen.getByTestId('compare-groups');
    expect(groups).toHaveTextContent('lr = 0.1');
    expect(groups).toHaveTextContent('2 runs');
    expect(groups).toHaveTextContent('lr = 0.01');
    const toggle = screen.getByTestId('group-toggle-1');
    fireEvent.click(toggle.tagName === 'INPUT' ? toggle : toggle.querySelector('input')!);
    await waitFor(() => expect(screen.getByTestId('compare-chart-loss').getAttribute('data-bands')).toBe('1'));
  });
});

describe('Experiments crashed status', () => {
  it('shows a failed run with a crash reason as crashed and filters through an expression when status=crashed is refused', async () => {
    handler = (url) => {
      if (url.startsWith('/api/runs?') && url.includes('status=crashed')) {
        return json({ detail: "Status 'crashed' is not supported yet", code: 'NOT_SUPPORTED' }, 400);
      }
      if (url.startsWith('/api/runs?') && url.includes('limit=50')) {
        return json([run('c1', { status: 'failed', exit_reason: 'heartbeat_lost' }), run('f1', { status: 'failed', exit_reason: 'error' })],
                    200, { 'X-Total-Count': '2' });
      }
      if (url.startsWith('/api/runs?')) return json([], 200, { 'X-Total-Count': '2' });
      if (url.startsWith('/api/paths')) return json({ paths: [], tree: {}, stats: {} });
      if (url === '/api/projects') return json({ projects: [] });
      return undefined;
    };
    render(<AntApp><MemoryRouter initialEntries={['/experiments?status=crashed']}><Experiments /></MemoryRouter></AntApp>);
    await waitFor(() => expect(document.querySelector('[data-status="crashed"]')).not.toBeNull());
    expect(document.querySelector('[data-status="crashed"]')).toHaveTextContent('Crashed');
    expect(document.querySelector('[data-status="failed"]')).toHaveTextContent('Failed');
    const retried = calls.find((u) => u.includes('limit=50') && u.includes('q='));
    expect(retried).toBeDefined();
    expect(decodeURIComponent(retried!.replace(/\+/g, ' '))).toContain('exit_reason IN ("process_not_found"');
    expect(retried).not.toContain('status=crashed');
  });
});
