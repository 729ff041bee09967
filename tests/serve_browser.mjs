// serve_browser.mjs - drives the explorer in Debian's chromium (headless): moves sliders, checks
// the charts against `resim run --set`, the copied command and the downloaded CSV byte for byte,
// prints the input-to-redraw latency and saves a screenshot to out/explorer.png.
//   node tests/serve_browser.mjs RESIM_BINARY
// Set RESIM_UPDATE_DOCS=1 to copy the screenshot to docs/explorer.png as well.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');

const resim = path.resolve(process.argv[2] || 'build/resim');
const scenario = 'scenarios/japan-2026.ini';
let failures = 0;
function check(ok, what) {
  if (!ok) { failures++; console.log('FAIL ' + what); } else console.log('ok   ' + what);
}

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(resim, ['serve', scenario, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve({ proc: p, url: m[0] });
    });
    p.on('exit', (code) => reject(new Error('resim serve exited with ' + code + ': ' + out)));
  });
}

// The CSV the command prints, with `resim` replaced by the binary under test.
function runCommand(cmd) {
  if (!cmd.startsWith('resim run ')) throw new Error('not a resim run command: ' + cmd);
  return execFileSync('bash', ['-c', JSON.stringify(resim).replace(/^"|"$/g, "'") + cmd.slice(5)],
    { maxBuffer: 1 << 26 });
}

function parseCsv(buf) {
  const lines = buf.toString('utf8').trimEnd().split('\n');
  const head = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    const row = {};
    head.forEach((h, i) => { row[h] = f[i]; });
    return row;
  });
}

const waitDrawn = (page) => page.waitForFunction(
  () => window.explorer.drawnSeq === window.explorer.inputSeq && window.explorer.inputSeq > 0);

const { proc, url } = await startServer();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu'] });
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1300 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  const page = await context.newPage();
  page.on('pageerror', (e) => { failures++; console.log('FAIL page error: ' + e); });
  await page.goto(url);
  await page.waitForFunction(() => window.explorer.ready && window.explorer.baseline);
  check(await page.evaluate(() => document.querySelectorAll('#lever-list input').length >= 8),
    'sliders are built from /api/levers');
  // Help and units on the page are the lever table's.
  const api = await page.evaluate(async () => (await (await fetch('api/levers')).json()).levers);
  const helpOf = (id) => api.find((l) => l.id === id).help;
  const shown = await page.evaluate(() => [...document.querySelectorAll('#lever-list .lever')].map((d) => ({
    input: d.querySelector('input').id, type: d.querySelector('input').type,
    help: (d.querySelector('.help') || {}).textContent, value: d.querySelector('.value').textContent })));
  const ap = shown.find((x) => x.input === 'lever-policy_approval_watch');
  check(ap && ap.help === helpOf('policy.approval.watch') && / fraction$/.test(ap.value),
    'the approval slider carries the table\'s help and unit: ' + JSON.stringify(ap));
  const ban = shown.find((x) => x.input === 'lever-policy_military_ban');
  check(ban && ban.type === 'checkbox' && ban.help === helpOf('policy.military_ban'),
    'the military-use ban is a switch');
  const dm = shown.find((x) => x.input === 'lever-policy_delay_mean_days_watch');
  check(dm && / days$/.test(dm.value), 'review delays show their unit (days)');

  // Move the watch-list approval slider down step by step (keyboard, as a user can),
  // timing each redraw, then the Lynas plant's delay.
  const approval = page.locator('#lever-policy_approval_watch');
  await approval.focus();
  const steps = 15;
  for (let i = 0; i < steps; i++) {
    await page.keyboard.press('ArrowLeft');
    await waitDrawn(page);
  }
  const lynas = page.locator('#lever-alt_lynas_my2___delay_months');
  await lynas.focus();
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('ArrowRight');
    await waitDrawn(page);
  }
  const lat = await page.evaluate(() => window.explorer.latencies.slice(1));
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(`latency slider input -> redrawn chart: median ${q(0.5).toFixed(1)} ms, ` +
    `p90 ${q(0.9).toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms over ${lat.length} moves`);

  const state = await page.evaluate(() => {
    const ex = window.explorer;
    const a = ex.charts.availability, s = ex.charts.status;
    return {
      changes: [...ex.changes.entries()],
      command: document.getElementById('command').textContent,
      from: document.getElementById('from-month').value,
      element: document.getElementById('element').value,
      elements: ex.levers.scenario.elements,
      avail: a.series.map((x, i) => [x.label, a.data[i]]),
      status: s.series.map((x, i) => [x.label, s.data[i]]),
    };
  });
  const approvalValue = String(await approval.inputValue());
  const lynasValue = String(await lynas.inputValue());
  check(Number(approvalValue) < 0.5, `the approval slider moved (to ${approvalValue})`);
  const lynasKeys = state.changes.filter(([k]) => /^alt\.lynas_my2_[a-z]+\.delay_months$/.test(k));
  check(lynasKeys.length >= 5 && lynasKeys.every(([, v]) => v === lynasValue),
    `one slider moved every Lynas new-plant source (${lynasKeys.length} keys to ${lynasValue})`);
  const expected = 'resim run ' + scenario + ' --by status' +
    state.changes.map(([k, v]) => ` --set ${k}=${v}`).join('');
  check(state.changes[0][0] === `${state.from}.approval.watch` && state.changes[0][1] === approvalValue,
    `the approval slider sets ${state.from}.approval.watch`);
  check(state.command === expected, 'the command shown is ' + expected);

  // The chart's data against the command line's CSV.
  const csv = parseCsv(runCommand(state.command));
  let worst = 0, compared = 0;
  state.elements.forEach((el) => {
    const cur = state.avail.find(([l]) => l === el)[1];
    const rows = csv.filter((r) => r.element === el && r.group === 'all');
    check(rows.length === cur.length, `${el}: ${rows.length} months in the CSV and the chart`);
    rows.forEach((r, t) => { worst = Math.max(worst, Math.abs(Number(r.availability) - cur[t])); compared++; });
  });
  const ctl = state.status.find(([l]) => l === 'control list')[1];
  csv.filter((r) => r.element === state.element && r.group === 'control').forEach((r, t) => {
    worst = Math.max(worst, Math.abs(Number(r.availability) - ctl[t])); compared++;
  });
  check(compared > 300 && worst <= 1e-9, `chart data equal resim run --set (${compared} values, largest difference ${worst})`);
  const baseCsv = parseCsv(runCommand('resim run ' + scenario + ' --by status'));
  let moved = 0;
  state.elements.forEach((el) => {
    const base = state.avail.find(([l]) => l === el + ' baseline')[1];
    baseCsv.filter((r) => r.element === el && r.group === 'all').forEach((r, t) => {
      check.silent = true;
      if (Math.abs(Number(r.availability) - base[t]) > 1e-9) moved++;
    });
  });
  check(moved === 0, 'dashed baselines equal resim run without --set');
  const dy = state.avail.find(([l]) => l === 'Dy')[1], dyb = state.avail.find(([l]) => l === 'Dy baseline')[1];
  check(dy.some((v, t) => Math.abs(v - dyb[t]) > 1e-6), 'the moved levers change Dy availability');

  // Copy command: the clipboard holds the same line.
  await page.click('#copy-command');
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  check(clip === expected, 'copied command: ' + clip);

  // Download CSV: the same bytes as the command's output.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  const got = readFileSync(await dl.path());
  const want = runCommand(expected);
  check(Buffer.compare(got, want) === 0, `downloaded CSV equals the command's output byte for byte (${got.length} bytes)`);
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#download-scenario')]);
  const ini = readFileSync(await dl2.path(), 'utf8');
  check(/\[scenario\]\nbase = japan-2026\.ini\n/.test(ini) &&
    ini.includes(`[${state.from}]\napproval.watch = ${approvalValue}\n`),
    'downloaded scenario names its base and the changed keys');

  mkdirSync('out', { recursive: true });
  await page.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
  await page.screenshot({ path: 'out/explorer.png', fullPage: false });
  if (process.env.RESIM_UPDATE_DOCS === '1') copyFileSync('out/explorer.png', 'docs/explorer.png');
  console.log('screenshot: out/explorer.png');

  // A switch and a new month: the timed change moves to the month chosen.
  await page.click('#lever-stockpile_enabled');
  await waitDrawn(page);
  await page.selectOption('#from-month', '2027-01');
  await waitDrawn(page);
  const after = await page.evaluate(() => ({
    changes: [...window.explorer.changes.entries()],
    command: document.getElementById('command').textContent,
    dy: window.explorer.charts.availability.data[1 + 2 * window.explorer.levers.scenario.elements.indexOf('Dy')],
  }));
  check(after.command.includes(' --set 2027-01.approval.watch=' + approvalValue) &&
    !after.command.includes('2026-07.') && after.command.includes(' --set stockpile.enabled=0'),
    'the switch and the month change the command: ' + after.command);
  const csv2 = parseCsv(runCommand(after.command)).filter((r) => r.element === 'Dy' && r.group === 'all');
  const worst2 = Math.max(...csv2.map((r, t) => Math.abs(Number(r.availability) - after.dy[t])));
  check(csv2.length === 48 && worst2 <= 1e-9, `after them the Dy chart equals resim run --set (largest difference ${worst2})`);

  check((await page.evaluate(() => window.explorer.errors)) === 0, 'no request failed');
} finally {
  await browser.close();
  proc.kill('SIGTERM');
}
const code = await new Promise((r) => proc.on('exit', (c) => r(c)));
check(code === 0, 'resim serve stops cleanly on SIGTERM');
console.log(failures === 0 ? 'all checks passed' : failures + ' check(s) failed');
process.exit(failures === 0 ? 0 : 1);
