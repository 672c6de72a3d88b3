// B11 (BENCHMARKS.md): the web UI in headless Chromium (playwright-core from plugins/http/web, Debian's
// chromium) against a real `runicorn viewer` over the store of gen_store.py (100k runs + a run of
// 1M steps x 10 keys). Not part of ctest. Measures, in the page's own clock (performance.now(), ms
// since navigation start):
//   first_page_ms  navigation to /experiments -> the first row of the run table in the DOM;
//   charts_ms      navigation to the big run's page -> every metric chart has its points (the
//                  server downsamples: /series?points=2000) and two frames were painted;
//   tab_heap_mb    JS heap of the tab (CDP Performance.getMetrics JSHeapUsedSize) sampled every 5 s
//                  on the run page of a live `runicorn demo` run for --live-seconds (default 120;
//                  600 = the 10-minute version).
// Each of the first two is measured --reps times (default 5) in a fresh browser context; rep 1 is
// the cold case (empty HTTP cache, and for charts_ms a cold series cache on the server).
//
// Usage: node bench/web/bench_web.mjs --bin build/release/bin/runicorn --store /tmp/b11-store
//          [--big-run ID] [--reps 5] [--live-seconds 120] [--out bench/results/b11_web.json]
// Prints one JSON object (BENCHMARKS.md envelope).
import { spawn, execSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const { chromium } = await import(path.join(repo, 'plugins/http/web/node_modules/playwright-core/index.mjs'));

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const bin = path.resolve(args.bin || path.join(repo, 'build/release/bin/runicorn'));
const store = path.resolve(args.store || '/tmp/b11-store');
const reps = Number(args.reps || 5);
const live_seconds = Number(args['live-seconds'] || 120);
const browser_path = process.env.CHROMIUM || '/usr/bin/chromium';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : null; };
const r1 = (v) => (v === null ? null : Math.round(v * 10) / 10);

function find_big_run() {
  const dir = path.join(store, 'runs', 'bench', 'big');
  return readdirSync(dir)[0];
}
const big_run = args['big-run'] || find_big_run();

const tmp = mkdtempSync(path.join(os.tmpdir(), 'runicorn-b11-'));
const config_dir = path.join(tmp, 'config');
mkdirSync(config_dir, { recursive: true });
writeFileSync(path.join(config_dir, 'rate_limits.json'), JSON.stringify({ enable_rate_limiting: false }));
const env = { ...process.env, RUNICORN_DIR: store, RUNICORN_CONFIG_DIR: config_dir, RUNICORN_LANG: 'en' };
const children = [];
function start(a) {
  const c = spawn(bin, ['--storage', store, ...a], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}
function wait_for_url(child, timeout_ms) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no URL in ${timeout_ms} ms:\n${text}`)), timeout_ms);
    const on = (d) => { text += d.toString(); const m = text.match(/https?:\/\/[^\s/]+:\d+/); if (m) { clearTimeout(timer); resolve(m[0]); } };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
}

const result = {};
let browser;
try {
  const t_start = Date.now();
  const viewer = start(['viewer', '--port', '0']);
  const base = await wait_for_url(viewer, 600000);
  // Wait until the catalog lists every run: --min-runs, else a count that stays put for 5 s.
  let total = 0, same = 0;
  for (let i = 0; i < 2400; ++i) {
    const r = await fetch(`${base}/api/runs?limit=1`).catch(() => null);
    const n = Number(r?.headers.get('X-Total-Count') ?? 0);
    same = n > 0 && n === total ? same + 1 : 0;
    total = n;
    if (args['min-runs'] ? total >= Number(args['min-runs']) : same >= 10) break;
    await sleep(500);
  }
  result.runs_listed = total;
  // The server side alone, for attribution: the first page's API call from this process.
  const api_ms = [];
  for (let i = 0; i < 3; ++i) {
    const t = performance.now();
    await (await fetch(`${base}/api/runs?limit=50`)).arrayBuffer();
    api_ms.push(performance.now() - t);
  }
  result.api_runs_limit50_ms = { p50: r1(median(api_ms)), all: api_ms.map(r1) };
  result.viewer_ready_s = r1((Date.now() - t_start) / 1000);

  browser = await chromium.launch({
    executablePath: browser_path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--enable-precise-memory-info',
           '--disable-background-networking', '--disable-component-update'],
  });
  const fresh = async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(120000);
    return { context, page };
  };

  // first_page_ms
  const first = [];
  for (let i = 0; i < reps; ++i) {
    const { context, page } = await fresh();
    await page.goto(`${base}/experiments`);
    const ms = await page.evaluate(() => new Promise((resolve) => {
      const check = () => {
        if (document.querySelector('[data-testid="run-table"] tr.ant-table-row')) { resolve(performance.now()); return true; }
        return false;
      };
      if (check()) return;
      const mo = new MutationObserver(() => { if (check()) mo.disconnect(); });
      mo.observe(document.body, { childList: true, subtree: true });
    }));
    first.push(ms);
    await context.close();
  }
  result.first_page_ms = { cold: r1(first[0]), p50: r1(median(first)), min: r1(Math.min(...first)), max: r1(Math.max(...first)), all: first.map(r1) };

  // charts_ms
  const keys = await (await fetch(`${base}/api/runs/${big_run}/metric-keys`)).json();
  // The run page charts every numeric key but the wall clock `time`.
  const want = (keys.keys ?? []).filter((k) => k.numeric && k.key !== 'time').length;
  result.big_run = { id: big_run, numeric_keys: want, steps: keys.keys?.[0]?.count ?? null };
  const charts = [];
  for (let i = 0; i < reps; ++i) {
    const { context, page } = await fresh();
    await page.goto(`${base}/runs/${big_run}`);
    const ms = await page.evaluate((n) => new Promise((resolve) => {
      const done = () => {
        const els = [...document.querySelectorAll('[data-testid^="chart-points-"]')];
        return els.length >= n && els.every((e) => Number(e.getAttribute('data-points')) > 0) &&
               document.querySelectorAll('[data-testid^="chart-"] canvas').length >= n;
      };
      const finish = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
      if (done()) { finish(); return; }
      const mo = new MutationObserver(() => { if (done()) { mo.disconnect(); finish(); } });
      mo.observe(document.body, { childList: true, subtree: true, attributes: true });
    }), want);
    charts.push(ms);
    await context.close();
  }
  result.charts_ms = { cold: r1(charts[0]), p50: r1(median(charts)), min: r1(Math.min(...charts)), max: r1(Math.max(...charts)), all: charts.map(r1) };

  // tab_heap_mb while a live run streams
  const demo = start(['demo', '--seconds', String(live_seconds + 30), '--path', 'bench/live']);
  demo.stdout.resume(); demo.stderr.resume();
  let demo_id = null;
  for (let i = 0; i < 240 && !demo_id; ++i) {
    const list = await (await fetch(`${base}/api/runs?path=bench/live&limit=5`)).json();
    if (Array.isArray(list) && list.length) demo_id = list[0].id; else await sleep(500);
  }
  if (!demo_id) throw new Error('the demo run did not appear');
  const { context, page } = await fresh();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(`${base}/runs/${demo_id}`);
  await page.locator('[data-testid^="chart-points-"]').first().waitFor();
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
    const m = await cdp.send('Performance.getMetrics');
    const v = m.metrics.find((x) => x.name === 'JSHeapUsedSize')?.value ?? 0;
    return v / (1024 * 1024);
  };
  const samples = [];
  const points = async () => page.evaluate(() => Number(document.querySelector('[data-testid^="chart-points-"]')?.getAttribute('data-points') ?? 0));
  const t0 = Date.now();
  while (Date.now() - t0 < live_seconds * 1000) {
    samples.push({ t_s: r1((Date.now() - t0) / 1000), heap_mb: r1(await heap()), points: await points() });
    await sleep(5000);
  }
  samples.push({ t_s: r1((Date.now() - t0) / 1000), heap_mb: r1(await heap()), points: await points() });
  result.tab_heap_mb = { live_seconds, start: samples[0].heap_mb, end: samples[samples.length - 1].heap_mb,
                         max: Math.max(...samples.map((s) => s.heap_mb)), points_start: samples[0].points,
                         points_end: samples[samples.length - 1].points, samples };
  await context.close();
} finally {
  await browser?.close().catch(() => {});
  for (const c of children) c.kill('SIGTERM');
  await sleep(300);
  rmSync(tmp, { recursive: true, force: true });
}

let commit = null, cpu = null;
try { commit = execSync('git rev-parse --short HEAD', { cwd: repo }).toString().trim(); } catch { /* not a checkout */ }
try { cpu = execSync("grep -m1 'model name' /proc/cpuinfo").toString().split(':')[1].trim(); } catch { /* no /proc */ }
const out = {
  id: 'B11', name: 'web', commit, host: { cpus: os.cpus().length, cpu, kernel: os.release() }, reps, seed: 1,
  result,
  targets: { first_page_ms: '<=1000', charts_ms: '<=1000', tab_heap_mb: 'bounded' },
  pass: result.first_page_ms.p50 <= 1000 && result.charts_ms.p50 <= 1000,
};
console.log(JSON.stringify(out, null, 2));
if (args.out) writeFileSync(path.resolve(args.out), JSON.stringify(out, null, 2) + '\n');
