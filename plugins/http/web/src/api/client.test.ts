import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, detail_message, list_all_runs, list_runs, post, with_query } from './client';

function reply(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

afterEach(() => vi.restoreAllMocks());

describe('with_query', () => {
  it('drops empty values and encodes the rest', () => {
    expect(with_query('/api/runs', { limit: 50, q: 'a b', cursor: null, path: '' })).toBe('/api/runs?limit=50&q=a+b');
    expect(with_query('/x', {})).toBe('/x');
  });
});

describe('list_runs', () => {
  it('sends the §4.1 parameters and reads the paging headers', async () => {
    const spy = vi.spyOn(globalThis, 'fetch').mockResolvedValue(
      reply([{ id: 'a' }], 200, { 'X-Total-Count': '1234', 'X-Next-Cursor': 'c2' }));
    const page = await list_runs({ limit: 50, status: 'running,failed', sort: 'created', order: 'desc' });
    expect(page.total).toBe(1234);
    expect(page.next_cursor).toBe('c2');
    expect(page.runs).toHaveLength(1);
    const url = String(spy.mock.calls[0][0]);
    expect(url).toContain('limit=50');
    expect(url).toContain('status=running%2Cfailed');
    expect(url).toContain('sort=created');
  });

  it('reports a missing total as null', async () => {
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(reply([]));
    expect((await list_runs({})).total).toBeNull();
  });

  it('follows X-Next-Cursor through every page', async () => {
    const spy = vi.spyOn(globalThis, 'fetch')
      .mockResolvedValueOnce(reply([{ id: 'a' }], 200, { 'X-Next-Cursor': 'n1' }))
      .mockResolvedValueOnce(reply([{ id: 'b' }]));
    const all = await list_all_runs({ include: 'summary' });
    expect(all.map((r) => r.id)).toEqual(['a', 'b']);
    expect(String(spy.mock.calls[1][0])).toContain('cursor=n1');
  });
});

describe('errors', () => {
  it('turns an error body into an ApiError with status, code and detail', async () => {
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(reply({ detail: 'Run not found', code: 'RUN_NOT_FOUND' }, 404));
    const err = await list_runs({}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(404);
    expect(err.code).toBe('RUN_NOT_FOUND');
    expect(err.message).toBe('Run not found');
  });

  it('reads filter errors and FastAPI validation lists', () => {
    expect(detail_message({ detail: { code: 'FILTER_SYNTAX', message: 'unexpected )', position: 4 } }, 400)).toBe('unexpected )');
    expect(detail_message({ detail: [{ loc: ['query', 'limit'], msg: 'too big' }] }, 422)).toBe('too big');
    expect(detail_message('<html>', 502)).toBe('HTTP 502');
  });

  it('maps a network failure to status 0', async () => {
    vi.spyOn(globalThis, 'fetch').mockRejectedValue(new TypeError('Failed to fetch'));
    const err = (await post('/api/x', {}).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
  });

  it('sends JSON bodies with the JSON content type', async () => {
    const spy = vi.spyOn(globalThis, 'fetch').mockResolvedValue(reply({ ok: true }));
    await post('/api/runs/soft-delete', { run_ids: ['a'] });
    const init = spy.mock.calls[0][1] as RequestInit;
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(init.body).toBe('{"run_ids":["a"]}');
  });
});
