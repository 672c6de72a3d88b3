// Browser test of the Artifacts page: a real `runicorn viewer` over a copy of the v0.6 fixture store
// to which this script adds three artifacts, written in the on-disk layout of FORMAT.md §7.6 (no
// CLI command creates artifacts, and the SDKs do not log them yet): blobs under archive/blobs/,
// artifacts/<name>/{artifact.json,aliases.json,v<N>/{version.json,manifest.json}}, produced_by
// pointing at a fixture run, and the `used` side of the lineage in two other runs' artifacts.json.
// Steps: the list and the blob-store statistics, opening an artifact, moving an alias (checked
// through the API too), the lineage graph and its run links, a file download, switching to
// 简体中文, and, when the server has GET /api/runs/{id}/assets/download, the code-snapshot browser.
// Screenshots go to $E2E_OUT (default ./e2e-output).
//
// Environment: RUNICORN_BIN (required), RUNICORN_FIXTURE (the fixture's store/ folder, required),
// CHROMIUM (default /usr/bin/chromium), E2E_OUT, E2E_TIMEOUT_MS (default 60 s per wait).
// Exit status 0 when every step passed; each failure is printed with its step name.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const bin = process.env.RUNICORN_BIN;
const fixture = process.env.RUNICORN_FIXTURE;
const browser_path = process.env.CHROMIUM || '/usr/bin/chromium';
const out_dir = path.resolve(process.env.E2E_OUT || 'e2e-output');
const T = Number(process.env.E2E_TIMEOUT_MS) || 60000;
if (!bin || !fixture) {
  console.error('artifacts e2e: set RUNICORN_BIN and RUNICORN_FIXTURE');
  process.exit(2);
}
mkdirSync(out_dir, { recursive: true });

const tmp = mkdtempSync(path.join(os.tmpdir(), 'runicorn-web-artifacts-'));
const store = path.join(tmp, 'store');
cpSync(fixture, store, { recursive: true });

// ---- the store: artifacts in the FORMAT.md §7.6 layout -------------------------------------
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const producer = { run_id: '20250115_100000_6cefa5', path: 'cv/resnet', run_dir: 'runs/cv/resnet/20250115_100000_6cefa5' };
const user_a = 'runs/cv/yolo/v8/20250115_121500_5faeb7';
const user_b = 'runs/nlp/bert/20250115_110000_3256c3';
const snapshot_run = '20250115_100000_6cefa5';

/** Deterministic pseudo-random bytes (a seeded xorshift), so blobs and digests are stable. */
function bytes(seed, n) {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; ++i) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Stores `data` as a blob (FORMAT.md §5.1, read-only) and returns its digest. */
function put_blob(data) {
  const sha = sha256(data);
  const dir = path.join(store, 'archive', 'blobs', sha.slice(0, 2));
  const file = path.join(dir, sha);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) {
    writeFileSync(file, data);
    chmodSync(file, 0o444);
  }
  return sha;
}

/** The manifest fingerprint of FORMAT.md §5.2 (pairs sorted by the UTF-8 bytes of the path). */
function fingerprint(entries) {
  const h = createHash('sha256');
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  for (const [rel, sha] of sorted) {
    h.update(Buffer.from(rel, 'utf8')); h.update(Buffer.from([0])); h.update(sha, 'ascii'); h.update(Buffer.from([0]));
  }
  return h.digest('hex');
}

const json_text = (o) => `${JSON.stringify(o, null, 2)}\n`;

/** Writes one artifact with its versions; `versions` = [{files: {rel: Buffer}, description, metadata, produced_by, created_at}]. */
function write_artifact(name, type, description, versions, aliases) {
  const dir = path.join(store, 'artifacts', name);
  mkdirSync(dir, { recursive: true });
  versions.forEach((v, i) => {
    const n = i + 1;
    const files = {};
    let total = 0;
    for (const [rel, data] of Object.entries(v.files)) {
      files[rel] = { sha256: put_blob(data), size_bytes: data.length };
      total += data.length;
    }
    const digest = fingerprint(Object.entries(files).map(([rel, f]) => [rel, f.sha256]));
    const vdir = path.join(dir, `v${n}`);
    mkdirSync(vdir, { recursive: true });
    writeFileSync(path.join(vdir, 'manifest.json'), json_text({
      created_at: v.created_at, source_path: null, fingerprint: digest, total_size_bytes: total,
      file_count: Object.keys(files).length, files }));
    writeFileSync(path.join(vdir, 'version.json'), json_text({
      name, type, version: n, digest, created_at: v.created_at, description: v.description ?? '', metadata: v.metadata ?? {},
      file_count: Object.keys(files).length, total_size_bytes: total,
      produced_by: v.produced_by ? { ...v.produced_by, hostname: 'e2e-host' } : null, format_version: 1 }));
    v.digest = digest;
  });
  writeFileSync(path.join(dir, 'artifact.json'), json_text({
    name, type, created_at: versions[0].created_at, description, last_version: versions.length, format_version: 1 }));
  writeFileSync(path.join(dir, 'aliases.json'), json_text({ aliases, updated_at: versions.at(-1).created_at }));
  return versions;
}

const t0 = 1736935200; // 2025-01-15 10:00 UTC, the fixture's day
const config = Buffer.from('arch: resnet50\nnum_classes: 1000\n');
const resnet = write_artifact('resnet50', 'model', 'ResNet-50 weights trained on imagenet-mini', [
  { files: { 'weights.bin': bytes(1, 96 * 1024), 'config.yaml': config }, description: 'first epoch sweep',
    metadata: { epochs: 10, top1: 0.712 }, produced_by: producer, created_at: t0 + 600 },
  { files: { 'weights.bin': bytes(2, 96 * 1024), 'config.yaml': config }, description: 'longer schedule',
    metadata: { epochs: 30, top1: 0.761 }, produced_by: producer, created_at: t0 + 1800 },
  { files: { 'weights.bin': bytes(2, 96 * 1024), 'config.yaml': config, 'README.md': Buffer.from('# resnet50\nfine-tuned\n') },
    description: 'same weights, with a model card', metadata: { epochs: 30, top1: 0.761 }, produced_by: producer, created_at: t0 + 2400 },
], { production: 2, best: 3 });
const dataset_files = {};
for (let i = 0; i < 6; ++i) dataset_files[`train/part-${i}.csv`] = Buffer.from(`id,label\n${i},cat\n${i + 1},dog\n`);
dataset_files['labels.txt'] = Buffer.from('cat\ndog\n');
const imagenet = write_artifact('imagenet-mini', 'dataset', 'A small ImageNet subset', [
  { files: dataset_files, description: 'initial split', metadata: { classes: 2 }, produced_by: null, created_at: t0 - 3600 },
], { stable: 1 });
write_artifact('bert-tokenizer', 'tokenizer', 'WordPiece vocabulary', [
  { files: { 'vocab.txt': Buffer.from('[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n') }, produced_by: null, created_at: t0 - 7200 },
], {});

// The run side of the lineage (artifacts.json, FORMAT.md §7.6).
writeFileSync(path.join(store, producer.run_dir, 'artifacts.json'), json_text({
  logged: resnet.map((v, i) => ({ name: 'resnet50', type: 'model', version: i + 1, digest: v.digest, aliases: [], at: v.created_at, deduplicated: false })),
  used: [{ name: 'imagenet-mini', version: 1, digest: imagenet[0].digest, requested: 'imagenet-mini:stable', at: t0 + 60 }] }));
writeFileSync(path.join(store, user_a, 'artifacts.json'), json_text({ logged: [], used: [
  { name: 'resnet50', version: 2, digest: resnet[1].digest, requested: 'resnet50:production', at: t0 + 8100 },
  { name: 'imagenet-mini', version: 1, digest: imagenet[0].digest, requested: 'imagenet-mini', at: t0 + 8100 }] }));
writeFileSync(path.join(store, user_b, 'artifacts.json'), json_text({ logged: [], used: [
  { name: 'resnet50', version: 2, digest: resnet[1].digest, requested: 'resnet50:v2', at: t0 + 3700 }] }));

// ---- the viewer and the browser ---------------------------------------------------------------
const env = { ...process.env, RUNICORN_DIR: store, RUNICORN_CONFIG_DIR: path.join(tmp, 'config'), RUNICORN_LANG: 'en' };
delete env.RUNICORN_PLUGIN_PATH;
const children = [];
const failures = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
  }
}

let browser;
try {
  const viewer = spawn(bin, ['--storage', store, 'viewer', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(viewer);
  const base = await wait_for_url(viewer, 2 * T);
  console.log(`viewer at ${base}, store ${store}`);
  const api = async (p) => (await (await fetch(base + p)).json());

  browser = await chromium.launch({
    executablePath: browser_path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 }, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(T);
  page.setDefaultNavigationTimeout(T);
  const page_errors = [];
  page.on('pageerror', (e) => page_errors.push(String(e)));
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url()); });
  const shot = (name, opts = {}) => page.screenshot({ path: path.join(out_dir, `${name}.png`), ...opts });
  const openapi = await fetch(`${base}/openapi.json`).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  const has_download = Boolean(openapi?.paths?.['/api/runs/{run_id}/assets/download']?.get);
  // Without the dedup plugin's routes every step below would only time out: say why at once.
  const probe = await fetch(`${base}/api/artifacts`);
  if (probe.status !== 200) {
    throw new Error(`GET /api/artifacts answered ${probe.status}: the dedup plugin's routes are not registered ` +
                    '(is the dedup plugin loaded, and initialised after the http plugin?)');
  }

  await step('artifact list and blob-store statistics', async () => {
    await page.goto(`${base}/experiments`);
    await page.getByTestId('nav-artifacts').click();
    await page.getByTestId('artifacts-page').waitFor({ timeout: T });
    for (const name of ['resnet50', 'imagenet-mini', 'bert-tokenizer']) await page.getByTestId(`artifact-link-${name}`).waitFor({ timeout: T });
    await page.getByText('production → v2').waitFor();
    const stats = await api('/api/blobs/stats');
    if (!(stats.saved_bytes > 0)) throw new Error(`expected dedup savings, /api/blobs/stats says ${JSON.stringify(stats)}`);
    await page.getByTestId('blob-stats').getByText('Saved by dedup').waitFor();
    await page.getByTestId('blob-stored-bar').waitFor();
    await sleep(500);
    await shot('artifacts-list-en');
  });

  await step('type filter', async () => {
    await page.getByTestId('artifact-type-filter').click();
    await page.locator('.ant-select-item-option', { hasText: 'dataset' }).click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="artifact-link-resnet50"]'), null, { timeout: T });
    await page.getByTestId('artifact-link-imagenet-mini').waitFor();
    await page.getByTestId('artifact-type-filter').locator('.ant-select-clear').click({ force: true });
    await page.getByTestId('artifact-link-resnet50').waitFor({ timeout: T });
  });

  await step('open an artifact', async () => {
    await page.getByTestId('artifact-link-resnet50').click();
    await page.getByTestId('artifact-detail').waitFor({ timeout: T });
    await page.getByTestId('aliases-v2').getByText('production').waitFor({ timeout: T });
    await page.getByTestId('aliases-v3').getByText('best').waitFor();
    await page.getByTestId('artifact-files').getByText('README.md').waitFor({ timeout: T });
  });

  await step('move an alias', async () => {
    await page.getByRole('button', { name: 'Set alias v3', exact: true }).click();
    const input = page.getByRole('combobox', { name: 'Alias' });
    await input.fill('production');
    await page.getByText('production will move from v2 to v3.').waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Move alias', exact: true }).click();
    await page.getByTestId('aliases-v3').getByText('production').waitFor({ timeout: T });
    const a = await api('/api/artifacts/resnet50');
    if (a.aliases?.production !== 3) throw new Error(`the server still has production → ${a.aliases?.production}`);
    // Keyboard: the alias dialog is closed and the remove buttons are reachable and labelled.
    await page.getByRole('button', { name: 'Remove alias production' }).waitFor();
  });

  await step('lineage graph', async () => {
    await page.getByTestId('select-v2').click();
    await page.getByTestId('version-title').getByText('resnet50:v2').waitFor({ timeout: T });
    await page.getByRole('tab', { name: 'Lineage' }).click();
    const graph = page.getByTestId('lineage-graph');
    await graph.waitFor({ timeout: T });
    // producer + version + two runs that used v2
    await page.waitForFunction(() => document.querySelector('[data-testid="lineage-graph"]')?.getAttribute('data-nodes') === '4', null, { timeout: T });
    await graph.locator('canvas').first().waitFor({ timeout: T });
    await graph.getByText('resnet50:production').waitFor();
    // The alias toast would cover the page header in the screenshot.
    await page.locator('.ant-message-notice').first().waitFor({ state: 'detached', timeout: 10000 }).catch(() => {});
    await sleep(1200);
    await shot('artifacts-en');
    await shot('artifacts-en-full', { fullPage: true });
  });

  await step('file download', async () => {
    await page.getByRole('tab', { name: 'Files' }).click();
    const link = page.getByRole('link', { name: 'Download config.yaml' });
    const href = await link.getAttribute('href');
    const res = await fetch(base + href);
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok || !body.equals(config)) throw new Error(`GET ${href} gave ${res.status}, ${body.length} bytes`);
    const zip = await fetch(base + await page.getByTestId('artifact-zip').getAttribute('href'));
    const magic = Buffer.from(await zip.arrayBuffer()).subarray(0, 4).toString('hex');
    if (!zip.ok || magic !== '504b0304') throw new Error(`version zip: ${zip.status}, starts with ${magic}`);
  });

  await step('lineage link opens the run', async () => {
    await page.getByRole('tab', { name: 'Lineage' }).click();
    await page.getByTestId('lineage-links').getByRole('link', { name: /20250115_110000_3256c3/ }).click();
    await page.waitForURL(/\/runs\/20250115_110000_3256c3/, { timeout: T });
    await page.getByTestId('run-title').waitFor({ timeout: T });
    await page.goBack();
    await page.getByTestId('artifact-detail').waitFor({ timeout: T });
  });

  await step('switch to 简体中文', async () => {
    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('artifacts-heading').getByText('制品').waitFor({ timeout: T });
    await page.getByTestId('blob-stats').getByText('去重节省').waitFor();
    await page.getByRole('tab', { name: '血缘' }).click();
    await page.getByTestId('lineage-graph').getByText('产生于').first().waitFor({ timeout: T });
    await page.locator('[data-testid="lineage-graph"] canvas').first().waitFor({ timeout: T });
    await sleep(1200);
    await shot('artifacts-zh');
    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('artifacts-heading').getByText('Artifacts').waitFor({ timeout: T });
  });

  await step('code snapshot browser', async () => {
    await page.goto(`${base}/runs/${snapshot_run}?tab=assets`);
    await page.getByTestId('code-snapshot').waitFor({ timeout: T });
    if (!has_download) {
      console.log('skip listing the snapshot: the server has no GET /api/runs/{run_id}/assets/download');
      await shot('run-snapshot-en');
      return;
    }
    await page.getByTestId('snapshot-browse').click();
    await page.getByTestId('snapshot-files').locator('tbody tr').first().waitFor({ timeout: T });
    await sleep(500);
    await shot('run-snapshot-en');
  });

  await step('no page errors and no external requests', async () => {
    if (page_errors.length) throw new Error(`page errors: ${page_errors.slice(0, 3).join(' | ')}`);
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

console.log(failures.length ? `artifacts e2e: ${failures.length} step(s) failed: ${failures.join(', ')}`
  : `artifacts e2e: all steps passed; screenshots in ${out_dir}`);
process.exit(failures.length ? 1 : 0);
