// Browser smoke test of the web UI: a real `runicorn viewer` over a copy of the v0.6 fixture store
// plus a live `runicorn demo` run, driven through Debian's headless Chromium by playwright-core (no
// browser download). Steps: experiments list, search filter, opening a run, a chart updating live,
// logs streaming, compare, compare grouped by a config key (mean ± std bands), a crashed run's status
// chip and the crashed filter, tab titles, layouts at 1280 px and 4K, delete to the recycle bin and
// restore, system monitor, settings, and switching to 简体中文. Each step saves a screenshot in
// $E2E_OUT (default ./e2e-output).
//
// The store copy is touched before the viewer starts: the six cv/ runs get a config (lr 0.01 or
// 0.001, so grouping by lr gives two groups) and one run becomes a crash (status failed, exit_reason
// process_not_found, FORMAT.md §4.2).
//
// The live checks (a chart gaining points, log lines arriving) run only when the server advertises
// the metric / log WebSocket in /openapi.json (x-runicorn-stream) and, for the chart, while the demo
// run is still running; otherwise the step only checks that the page shows its data, and says so.
// Waits are generous (E2E_TIMEOUT_MS, default 60 s each) and nothing asserts a duration.
//
// Environment: RUNICORN_BIN (the runicorn executable, required), RUNICORN_FIXTURE (the fixture's
// store/ folder, required), CHROMIUM (default /usr/bin/chromium), E2E_OUT, E2E_TIMEOUT_MS.
// Exit status 0 when every step passed; each failure is printed with its step name.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const bin = process.env.RUNICORN_BIN;
const fixture = process.env.RUNICORN_FIXTURE;
const browser_path = process.env.CHROMIUM || '/usr/bin/chromium';
const out_dir = path.resolve(process.env.E2E_OUT || 'e2e-output');
// One generous wait for everything: CI runs this on a 2-core box beside other tests. No step
// asserts how long anything takes; the printed durations are for information only.
const T = Number(process.env.E2E_TIMEOUT_MS) || 60000;
if (!bin || !fixture) {
  console.error('smoke: set RUNICORN_BIN and RUNICORN_FIXTURE');
  process.exit(2);
}
mkdirSync(out_dir, { recursive: true });

const tmp = mkdtempSync(path.join(os.tmpdir(), 'runicorn-web-e2e-'));
const store = path.join(tmp, 'store');
cpSync(fixture, store, { recursive: true });
const crashed_run = '20250115_114500_1a030f';
{
  const run_dirs = (dir) => readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (!statSync(p).isDirectory()) return [];
    return /^\d{8}_\d{6}_[0-9a-f]{6}$/.test(n) ? [p] : run_dirs(p);
  });
  run_dirs(path.join(store, 'runs', 'cv')).sort().forEach((dir, i) => {
    const file = path.join(dir, 'assets.json');
    const assets = JSON.parse(readFileSync(file, 'utf8'));
    assets.config = { args: { lr: i % 2 ? 0.001 : 0.01, batch_size: 16 * (i + 1), optimizer: 'sgd' } };
    writeFileSync(file, JSON.stringify(assets, null, 2));
  });
  const status = path.join(store, 'runs', 'default', crashed_run, 'status.json');
  const st = JSON.parse(readFileSync(status, 'utf8'));
  writeFileSync(status, JSON.stringify({ ...st, status: 'failed', ended_at: st.ended_at ?? st.started_at ?? 1736941500,
                                         exit_reason: 'process_not_found' }));
}
const env = { ...process.env, RUNICORN_DIR: store, RUNICORN_CONFIG_DIR: path.join(tmp, 'config'), RUNICORN_LANG: 'en' };
delete env.RUNICORN_PLUGIN_PATH;
const children = [];

function start(args) {
  const child = spawn(bin, ['--storage', store, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

function wait_for_url(child, timeout_ms) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`viewer did not print its URL in ${timeout_ms} ms:\n${text}`)), timeout_ms);
    const on = (d) => {
      text += d.toString();
      const m = text.match(/https?:\/\/[^\s/]+:\d+/);
      if (m) { clearTimeout(timer); resolve(m[0]); }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`viewer exited with ${code}:\n${text}`)); });
  });
}

const failures = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
  }
}

let browser;
try {
  const viewer = start(['viewer', '--port', '0']);
  const base = await wait_for_url(viewer, 2 * T);
  const demo = start(['demo', '--seconds', '120', '--path', 'demo/e2e']);
  demo.stdout.resume();
  demo.stderr.resume();
  console.log(`viewer at ${base}, store ${store}`);

  browser = await chromium.launch({
    executablePath: browser_path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(T);
  page.setDefaultNavigationTimeout(T);
  const console_errors = [];
  page.on('pageerror', (e) => console_errors.push(String(e)));
  // Every request must stay on the viewer (offline UI, no CDN).
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url()); });
  const shot = (name) => page.screenshot({ path: path.join(out_dir, `${name}.png`) });
  const api = async (p) => (await (await fetch(base + p)).json());
  // Live streams are checked only when the server advertises them in its OpenAPI document
  // (x-runicorn-stream, API.md §4.9); without one the page must still load and show its data.
  const openapi = await fetch(`${base}/openapi.json`).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  const advertised = (p) => Boolean(openapi?.paths?.[p]?.get?.['x-runicorn-stream']);
  const metrics_ws = advertised('/api/runs/{run_id}/metrics/ws');
  const logs_ws = advertised('/api/runs/{run_id}/logs/ws');
  console.log(`streams advertised: metrics/ws ${metrics_ws}, logs/ws ${logs_ws}`);

  const fixture_run = '20250115_121500_5faeb7';
  let demo_id = null;

  await step('experiments list', async () => {
    await page.goto(`${base}/experiments`);
    await page.getByTestId('run-table').waitFor({ timeout: T });
    await page.getByText(fixture_run).first().waitFor({ timeout: T });
    await page.getByTestId('path-tree').getByText('yolo').first().waitFor();
    await sleep(500);
    await shot('experiments-en');
    const title = await page.title();
    if (title !== 'Experiments · Runicorn') throw new Error(`tab title "${title}"`);
  });

  await step('crashed status chip and filter', async () => {
    const chip = page.getByTestId('run-table').locator('[data-status="crashed"]').first();
    await chip.waitFor({ timeout: T });
    if ((await chip.innerText()).trim() !== 'Crashed') throw new Error(`chip says "${await chip.innerText()}"`);
    await page.goto(`${base}/experiments?status=crashed`);
    await page.getByTestId('run-table').getByText(crashed_run).first().waitFor({ timeout: T });
    // Only crashed runs are left (the fixture has one of its own besides ours).
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="run-table"] tr.ant-table-row')];
      return rows.length > 0 && rows.every((r) => r.querySelector('[data-status="crashed"]'));
    }, null, { timeout: T });
    await sleep(300);
    await shot('experiments-crashed-en');
    await page.goto(`${base}/experiments`);
    await page.getByText(fixture_run).first().waitFor({ timeout: T });
  });

  await step('layouts at 1280 px and 4K', async () => {
    for (const [w, h, name] of [[1280, 800, 'experiments-1280-en'], [3840, 2160, 'experiments-4k-en']]) {
      await page.setViewportSize({ width: w, height: h });
      await page.goto(`${base}/experiments`);
      await page.getByText(fixture_run).first().waitFor({ timeout: T });
      await sleep(600);
      await shot(name);
      // Nothing may stick out of the window sideways (the table scrolls inside itself if it must).
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) throw new Error(`${w} px: the page is ${overflow} px wider than the window`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await step('search filter', async () => {
    // antd's Input.Search puts the test id on the <input> itself.
    const search = page.locator('input[data-testid="run-search"], [data-testid="run-search"] input').first();
    await search.fill('yolo');
    await search.press('Enter');
    await page.waitForFunction(() => !document.querySelector('[data-testid="run-table"]')?.textContent?.includes('20250115_110000_3256c3'),
                               null, { timeout: T });
    await page.getByTestId('run-table').getByText(fixture_run).first().waitFor({ timeout: T });
    await search.fill('');
    await search.press('Enter');
  });

  await step('demo run appears', async () => {
    for (const end = Date.now() + 2 * T; !demo_id && Date.now() < end;) {
      const runs = await api('/api/runs');
      const r = Array.isArray(runs) ? runs.find((x) => (x.path || '').startsWith('demo/e2e')) : null;
      if (r) demo_id = r.id; else await sleep(500);
    }
    if (!demo_id) throw new Error('no demo run listed by /api/runs');
  });

  await step('run detail: chart updates live', async () => {
    await page.goto(`${base}/runs/${demo_id}`);
    await page.getByTestId('run-title').waitFor({ timeout: T });
    if (!(await page.title()).includes(demo_id)) throw new Error(`tab title "${await page.title()}" lacks the run id`);
    const chart = page.locator('[data-testid^="chart-points-"]').first();
    await chart.waitFor({ timeout: T });
    // On a very slow machine the demo may already have ended; then there is nothing live to see.
    const still_running = (await api(`/api/runs/${demo_id}`)).status === 'running';
    if (metrics_ws && still_running) {
      const before = Number(await chart.getAttribute('data-points'));
      await page.waitForFunction((b) => {
        const el = document.querySelector('[data-testid^="chart-points-"]');
        return el && Number(el.getAttribute('data-points')) > b;
      }, before, { timeout: 2 * T });
    } else {
      console.log(`skip live chart update: ${metrics_ws ? 'the demo run has ended' : 'the server does not advertise the metric WebSocket'}`);
    }
    await shot('run-charts-en');
  });

  await step('run detail: logs stream', async () => {
    await page.getByRole('tab', { name: 'Logs' }).click();
    await page.getByTestId('log-viewer').waitFor();
    if (logs_ws) {
      await page.getByTestId('log-lines').locator('.rn-log-line').first().waitFor({ timeout: 2 * T });
    } else {
      console.log('skip log lines: the server does not advertise the log WebSocket');
    }
    // A few more lines make a better screenshot; best effort, not a check.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-lines"] .rn-log-line').length >= 2,
                               null, { timeout: 15000 }).catch(() => {});
    await sleep(500);
    await shot('run-logs-en');
  });

  await step('fixture run: config and summary', async () => {
    await page.goto(`${base}/runs/${fixture_run}?tab=summary`);
    await page.getByTestId('run-title').waitFor({ timeout: T });
    await sleep(800);
    await shot('run-summary-en');
  });

  await step('compare', async () => {
    const runs = await api('/api/runs');
    const ids = runs.filter((r) => r.path && r.path.startsWith('cv')).slice(0, 3).map((r) => r.id);
    await page.goto(`${base}/compare?runs=${ids.join(',')}`);
    await page.locator('[data-testid^="compare-chart-"]').first().waitFor({ timeout: T });
    await sleep(800);
    await shot('compare-en');
  });

  let cv_ids = [];
  await step('compare grouped by a config key', async () => {
    const runs = await api('/api/runs');
    cv_ids = runs.filter((r) => r.path && r.path.startsWith('cv')).map((r) => r.id);
    await page.goto(`${base}/compare?runs=${cv_ids.join(',')}&group=lr`);
    await page.getByTestId('compare-groups').waitFor({ timeout: T });
    await page.locator('[data-testid^="compare-chart-"][data-bands="2"]').first().waitFor({ timeout: T });
    const text = await page.getByTestId('compare-groups').innerText();
    if (!text.includes('lr = 0.01') || !text.includes('lr = 0.001')) throw new Error(`groups: ${text}`);
    await sleep(800);
    await shot('compare-groups-en');
    if ((await page.title()) !== 'Compare · Runicorn') throw new Error(`tab title "${await page.title()}"`);
  });

  await step('delete to recycle bin and restore', async () => {
    await page.goto(`${base}/experiments`);
    const row = page.locator('tr', { hasText: fixture_run }).first();
    await row.waitFor({ timeout: T });
    await row.locator('input[type=checkbox]').check();
    await page.getByTestId('delete-selected').click();
    await page.locator('#confirm-delete').click();
    await page.waitForFunction((id) => !document.querySelector('[data-testid="run-table"]')?.textContent?.includes(id), fixture_run, { timeout: T });
    await page.goto(`${base}/recycle-bin`);
    const binrow = page.locator('tr', { hasText: fixture_run }).first();
    await binrow.waitFor({ timeout: T });
    await shot('recycle-bin-en');
    await binrow.getByRole('button', { name: /Restore/ }).click();
    await page.waitForFunction((id) => !document.body.innerText.includes(id), fixture_run, { timeout: T });
    const runs = await api('/api/runs');
    if (!runs.some((r) => r.id === fixture_run)) throw new Error('restored run not listed');
  });

  await step('system monitor', async () => {
    await page.goto(`${base}/system`);
    await page.getByTestId('system-page').waitFor({ timeout: T });
    await page.getByTestId('gpu-card').waitFor();
    await sleep(2500);
    await shot('system-en');
  });

  await step('assets', async () => {
    await page.goto(`${base}/assets`);
    await page.getByTestId('assets-page').waitFor({ timeout: T });
    await sleep(1000);
    await shot('assets-en');
    await page.goto(`${base}/settings`);
    await page.getByTestId('settings-page').waitFor({ timeout: T });
    await sleep(300);
    await shot('settings-en');
  });

  await step('switch to 简体中文', async () => {
    await page.goto(`${base}/settings`);
    await page.getByTestId('settings-page').waitFor({ timeout: T });
    await page.getByTestId('lang-toggle').click();
    await page.getByText('实验', { exact: true }).first().waitFor({ timeout: T });
    await page.getByText('外观').first().waitFor();
    await shot('settings-zh');
    await page.goto(`${base}/experiments`);
    await page.getByText('全部运行').first().waitFor({ timeout: T });
    await page.getByText(fixture_run).first().waitFor({ timeout: T });
    await sleep(500);
    await shot('experiments-zh');
    await page.goto(`${base}/runs/${demo_id}`);
    await page.getByRole('tab', { name: '图表' }).waitFor({ timeout: T });
    await page.locator('[data-testid^="chart-points-"]').first().waitFor({ timeout: T });
    await sleep(800);
    await shot('run-charts-zh');
    await page.goto(`${base}/compare?runs=${cv_ids.join(',')}&group=lr`);
    await page.locator('[data-testid^="compare-chart-"][data-bands="2"]').first().waitFor({ timeout: T });
    await page.getByText('分组依据').first().waitFor({ timeout: T });
    await sleep(800);
    await shot('compare-groups-zh');
    if (!(await page.title()).startsWith('对比')) throw new Error(`tab title "${await page.title()}"`);
    await page.goto(`${base}/experiments?status=crashed`);
    await page.getByTestId('run-table').locator('[data-status="crashed"]', { hasText: '已崩溃' }).first().waitFor({ timeout: T });
    await sleep(300);
    await shot('experiments-crashed-zh');
  });

  // Every page once more in 简体中文 (the language stays switched): screenshots for both languages.
  await step('every page in 简体中文', async () => {
    await page.goto(`${base}/runs/${demo_id}?tab=logs`);
    await page.getByTestId('log-viewer').waitFor({ timeout: T });
    await page.getByRole('tab', { name: '日志' }).waitFor({ timeout: T });
    await sleep(500);
    await shot('run-logs-zh');
    await page.goto(`${base}/runs/${fixture_run}?tab=summary`);
    await page.getByTestId('run-title').waitFor({ timeout: T });
    await sleep(500);
    await shot('run-summary-zh');
    await page.goto(`${base}/compare?runs=${cv_ids.slice(0, 3).join(',')}`);
    await page.locator('[data-testid^="compare-chart-"]').first().waitFor({ timeout: T });
    await sleep(800);
    await shot('compare-zh');
    await page.goto(`${base}/recycle-bin`);
    await page.getByText('回收站').first().waitFor({ timeout: T });
    await sleep(300);
    await shot('recycle-bin-zh');
    await page.goto(`${base}/system`);
    await page.getByTestId('system-page').waitFor({ timeout: T });
    await page.getByTestId('gpu-card').waitFor();
    await sleep(2500);
    await shot('system-zh');
    await page.goto(`${base}/assets`);
    await page.getByTestId('assets-page').waitFor({ timeout: T });
    await page.getByText('资产').first().waitFor({ timeout: T });
    await sleep(1000);
    await shot('assets-zh');
  });

  await step('no page errors and no external requests', async () => {
    if (console_errors.length) throw new Error(`page errors: ${console_errors.slice(0, 3).join(' | ')}`);
    if (external.length) throw new Error(`external requests: ${external.slice(0, 3).join(', ')}`);
  });
} catch (e) {
  failures.push('setup');
  console.log(`FAIL setup: ${e && e.stack ? e.stack : e}`);
} finally {
  await browser?.close().catch(() => {});
  for (const c of children) c.kill('SIGTERM');
  await sleep(300);
  rmSync(tmp, { recursive: true, force: true });
}

console.log(failures.length ? `smoke: ${failures.length} step(s) failed: ${failures.join(', ')}` : `smoke: all steps passed; screenshots in ${out_dir}`);
process.exit(failures.length ? 1 : 0);
