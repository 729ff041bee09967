// app.js - the resim explorer: sliders built from /api/levers, runs through /api/run, charts with uPlot.
'use strict';

// The levers an analyst moves first, as patterns over lever ids (SECTION.KEY).
// Everything else about a lever (its range, unit, default, help) comes from
// the API. `timed`: set from the chosen month, as an event key MONTH.KEY.
// `together`: one slider sets every matching lever. `{el}`: the element chosen.
// `top`: the slider's end when the lever has no upper bound.
const SHOWN = [
  { group: 'Licensing, from the chosen month', items: [
    { match: 'policy.approval.*', timed: true },
    { match: 'policy.delay_mean_days.*', timed: true, top: 365 },
    { match: 'list.add.control', timed: true, top: 100 },
    { match: 'list.add.watch', timed: true, top: 100 },
    { match: 'policy.military_ban', timed: true },
  ] },
  { group: 'Lynas new heavy plant (Malaysia)', items: [
    { match: 'alt.lynas_my2_*.delay_months', together: true, top: 36, label: 'alt.lynas_my2_*.delay_months' },
    { match: 'alt.lynas_my2_*.capacity_factor', together: true, top: 2, label: 'alt.lynas_my2_*.capacity_factor' },
  ] },
  { group: 'National stockpile', items: [
    { match: 'stockpile.enabled' },
    { match: 'stockpile.tonnes.{el}', top: 200 },
  ] },
  // Model version 2 (docs/model.md sections 10-13), shown once the lever table has them.
  { group: 'Substitution, precaution, general licences', items: [
    { match: '*.substitution.rate', top: 0.5 },
    { match: '*.substitution.cap' },
    { match: '*.precaution_months.*', timed: true, top: 12 },
    { match: '*.general_licence.*', timed: true },
    { match: 'stockpile.decision_months', top: 12 },
  ] },
];

const METRICS = ['demand', 'consumption', 'alt_supply', 'china_arrivals', 'stockpile_release',
                 'shortfall', 'availability'];
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
                '#7f7f7f', '#bcbd22', '#17becf'];

const explorer = {
  ready: false, inputSeq: 0, drawnSeq: 0, latencies: [], charts: {}, copied: null,
  levers: null, baseline: null, current: null, changes: new Map(), errors: 0,
};
window.explorer = explorer;

const $ = (id) => document.getElementById(id);

function globToRegExp(glob, el) {
  const s = glob.replace('{el}', el).replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*');
  return new RegExp('^' + s + '$');
}

function leverId(l) { return l.id || (l.section + '.' + l.key); }

function monthIndex(date) {
  const [y, m] = date.split('-').map(Number);
  const [y0, m0] = explorer.levers.scenario.start.split('-').map(Number);
  return (y - y0) * 12 + (m - m0);
}

function fmt(v) {
  if (typeof v !== 'number') return String(v);
  return String(Number(v.toPrecision(12)));
}

function isCount(l) { return l.kind === 'count' || l.kind === 'whole'; }

// The value a lever has at the chosen month in the scenario as written.
function baselineValue(l, spec) {
  const id = leverId(l);
  const from = $('from-month').value;
  const eventOnly = l.event_only;
  let v = eventOnly ? (l.default != null ? l.default : 0) : l.value;
  if (!timed(spec, l)) return v;
  const t = monthIndex(from);
  for (const ev of explorer.levers.timeline) {
    if (ev.lever !== id) continue;
    if (eventOnly) { if (ev.date === from) v = Number(ev.value); }
    else if (ev.month <= t) v = Number(ev.value);
  }
  return v;
}

// The --set keys a slider writes.
function timed(spec, l) { return spec.timed && (l.event || l.event_only); }

function keysOf(slider) {
  const from = $('from-month').value;
  return slider.levers.map((l) => timed(slider.spec, l) ? from + '.' + l.key : leverId(l));
}

const sliders = [];

function buildSliders() {
  const box = $('lever-list');
  box.textContent = '';
  sliders.length = 0;
  const el = $('element').value;
  for (const g of SHOWN) {
    const made = [];
    for (const spec of g.items) {
      const re = globToRegExp(spec.match, el);
      const hits = explorer.levers.levers.filter((l) => (re.test(leverId(l)) || re.test(l.key)) &&
        (l.kind === 'switch' || Number.isFinite(l.min)));
      if (hits.length === 0) continue;
      const groups = spec.together ? [hits] : hits.map((h) => [h]);
      for (const ls of groups) made.push({ spec, levers: ls });
    }
    if (made.length === 0) continue;
    const head = document.createElement('div');
    head.className = 'group';
    head.textContent = g.group;
    box.appendChild(head);
    for (const s of made) box.appendChild(makeSlider(s));
  }
  syncSliders();
}

function makeSlider(s) {
  const l = s.levers[0];
  const div = document.createElement('div');
  div.className = 'lever';
  const head = document.createElement('div');
  head.className = 'head';
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = s.spec.together ? s.spec.label : (s.spec.timed ? l.key : leverId(l));
  const value = document.createElement('span');
  value.className = 'value';
  head.append(name, value);
  div.appendChild(head);
  if (l.help) {
    const help = document.createElement('div');
    help.className = 'help';
    help.textContent = l.help;
    div.appendChild(help);
  }
  let input;
  const isSwitch = l.kind === 'switch';
  if (isSwitch) {
    input = document.createElement('input');
    input.type = 'checkbox';
  } else {
    input = document.createElement('input');
    input.type = 'range';
    const lo = Number.isFinite(l.min) ? l.min : 0;
    let hi = Number.isFinite(l.max) ? l.max : (s.spec.top || Math.max(1, 4 * Math.abs(Number(l.value) || 1)));
    const cur = Number(baselineValue(l, s.spec));
    if (cur > hi) hi = cur;
    const span = hi - lo;
    const step = isCount(l) || /day|month|importer/.test(l.unit || '') || span >= 20 ? 1 : (span <= 2 ? 0.01 : 0.1);
    input.min = String(lo);
    input.max = String(hi);
    input.step = String(step);
  }
  input.id = 'lever-' + (s.spec.together ? s.spec.match : leverId(l)).replace(/[^A-Za-z0-9_]/g, '_');
  input.dataset.lever = s.spec.together ? s.spec.match : leverId(l);
  input.setAttribute('aria-label', name.textContent + (l.help ? ': ' + l.help : ''));
  div.appendChild(input);
  s.div = div;
  s.input = input;
  s.valueEl = value;
  s.isSwitch = isSwitch;
  s.unit = l.unit || '';
  input.addEventListener('input', () => onInput(s));
  sliders.push(s);
  return div;
}

// Puts every slider at its changed value, or at the scenario's.
function syncSliders() {
  for (const s of sliders) {
    const keys = keysOf(s);
    const changed = explorer.changes.has(keys[0]);
    const v = changed ? explorer.changes.get(keys[0]) : baselineValue(s.levers[0], s.spec);
    if (s.isSwitch) s.input.checked = Number(v) === 1;
    else s.input.value = String(v);
    s.valueEl.textContent = fmt(Number(v)) + (s.unit ? ' ' + s.unit : '');
    s.div.classList.toggle('changed', changed);
  }
}

function onInput(s) {
  const text = s.isSwitch ? (s.input.checked ? '1' : '0') : s.input.value;
  const keys = keysOf(s);
  s.levers.forEach((l, i) => {
    const base = baselineValue(l, s.spec);
    if (Number(text) === Number(base)) explorer.changes.delete(keys[i]);
    else explorer.changes.set(keys[i], text);
  });
  syncSliders();
  explorer.inputSeq++;
  request(explorer.inputSeq, performance.now());
}

// One run in flight at a time; moves made meanwhile are sent together next.
let inFlight = false;
let pending = null;

function body(extra) {
  return JSON.stringify(Object.assign({ by: 'status', set: Object.fromEntries(explorer.changes) }, extra || {}));
}

async function request(seq, t0) {
  if (inFlight) { pending = { seq, t0: pending ? pending.t0 : t0 }; return; }
  inFlight = true;
  try {
    const r = await fetch('api/run', { method: 'POST', body: body({ metrics: METRICS }) });
    const j = await r.json();
    if (!r.ok) {
      explorer.errors++;
      $('status').textContent = j.error || ('HTTP ' + r.status);
    } else {
      explorer.current = j;
      $('status').textContent = j.warnings.length ? j.warnings.join('\n') : '';
      draw();
      requestAnimationFrame(() => {
        explorer.latencies.push(performance.now() - t0);
        explorer.drawnSeq = Math.max(explorer.drawnSeq, seq);
      });
    }
  } catch (e) {
    explorer.errors++;
    $('status').textContent = String(e);
  } finally {
    inFlight = false;
    if (pending) { const p = pending; pending = null; request(p.seq, p.t0); }
  }
}

// ---------------------------------------------------------------- charts

function xs() {
  return explorer.levers.scenario.dates.map((d) => {
    const [y, m] = d.split('-').map(Number);
    return Date.UTC(y, m - 1, 1) / 1000;
  });
}

// Values of one metric for element e, group g (0 all, 1 none, 2 watch, 3 control).
function series(run, metric, e, g) {
  const E = explorer.levers.scenario.elements.length, G = 4, T = explorer.levers.scenario.months;
  const col = run.data[metric], out = new Array(T);
  for (let t = 0; t < T; t++) out[t] = col[(t * E + e) * G + g];
  return out;
}

function eventMarkers() {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
        const seen = new Set();
        let lastLabel = -1e9;
        ctx.save();
        ctx.lineWidth = 1;
        for (const ev of explorer.levers.timeline) {
          if (seen.has(ev.date)) continue;
          seen.add(ev.date);
          const x = Math.round(u.valToPos(xs()[Math.max(0, ev.month)], 'x', true));
          ctx.strokeStyle = 'rgba(0,0,0,0.25)';
          ctx.setLineDash([2, 3]);
          ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = 'rgba(0,0,0,0.55)';
          ctx.font = (10 * devicePixelRatio) + 'px sans-serif';
          // Labels that would overlap the previous one are left out; the line stays.
          if (x - lastLabel > 48 * devicePixelRatio) {
            ctx.fillText(ev.date, x + 2, top + 10 * devicePixelRatio);
            lastLabel = x;
          }
        }
        const from = monthIndex($('from-month').value);
        if (from >= 0 && from < xs().length) {
          const x = Math.round(u.valToPos(xs()[from], 'x', true));
          ctx.strokeStyle = 'rgba(192,57,43,0.7)';
          ctx.lineWidth = 2;
          ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
}

function chartWidth() { return Math.max(420, $('charts').clientWidth - 16); }

function makeCharts() {
  const els = explorer.levers.scenario.elements;
  const av = [{}];
  els.forEach((el, i) => {
    const c = COLORS[i % COLORS.length];
    av.push({ label: el, stroke: c, width: 2, value: (u, v) => v == null ? '-' : (100 * v).toFixed(1) + '%' });
    av.push({ label: el + ' baseline', stroke: c, width: 1, dash: [6, 4], value: (u, v) => v == null ? '-' : (100 * v).toFixed(1) + '%' });
  });
  const pct = { scale: 'y', values: (u, vals) => vals.map((v) => (100 * v).toFixed(0) + '%') };
  explorer.charts.availability = new uPlot({
    width: chartWidth(), height: 300, series: av.map(noPoints), plugins: [eventMarkers()],
    axes: [{}, pct], scales: { y: { range: [0, 1.02] } },
  }, emptyData(av.length), $('chart-availability'));

  const sup = [{},
    { label: 'non-China', stroke: '#2ca02c', fill: 'rgba(44,160,44,0.35)', width: 1 },
    { label: '+ China arrivals', stroke: '#d62728', fill: 'rgba(214,39,40,0.3)', width: 1 },
    { label: '+ stockpile release', stroke: '#9467bd', fill: 'rgba(148,103,189,0.35)', width: 1 },
    { label: 'demand', stroke: '#000', width: 2 },
    { label: 'consumption', stroke: '#1f77b4', width: 2 },
    { label: 'consumption baseline', stroke: '#1f77b4', width: 1, dash: [6, 4] }];
  explorer.charts.supply = new uPlot({
    width: chartWidth(), height: 260, series: sup.map(noPoints), plugins: [eventMarkers()],
    bands: [{ series: [2, 1] }, { series: [3, 2] }],
  }, emptyData(sup.length), $('chart-supply'));

  const st = [{},
    { label: 'control list', stroke: '#d62728', width: 2 },
    { label: 'control list baseline', stroke: '#d62728', width: 1, dash: [6, 4] },
    { label: 'everyone else', stroke: '#1f77b4', width: 2 },
    { label: 'everyone else baseline', stroke: '#1f77b4', width: 1, dash: [6, 4] }];
  explorer.charts.status = new uPlot({
    width: chartWidth(), height: 240, series: st.map(noPoints), plugins: [eventMarkers()],
    axes: [{}, pct], scales: { y: { range: [0, 1.02] } },
  }, emptyData(st.length), $('chart-status'));
}

function noPoints(s, i) { return i === 0 ? s : Object.assign({ points: { show: false } }, s); }

function emptyData(n) {
  const x = xs();
  const d = [x];
  for (let i = 1; i < n; i++) d.push(x.map(() => null));
  return d;
}

function others(run, e) {
  const dA = series(run, 'demand', e, 0), cA = series(run, 'consumption', e, 0);
  const dC = series(run, 'demand', e, 3), cC = series(run, 'consumption', e, 3);
  return dA.map((d, t) => (d - dC[t]) > 0 ? (cA[t] - cC[t]) / (d - dC[t]) : 1);
}

function draw() {
  const cur = explorer.current, base = explorer.baseline;
  if (!cur || !base) return;
  const els = explorer.levers.scenario.elements;
  const x = xs();
  const av = [x];
  els.forEach((el, e) => { av.push(series(cur, 'availability', e, 0)); av.push(series(base, 'availability', e, 0)); });
  explorer.charts.availability.setData(av);

  const e = els.indexOf($('element').value);
  const alt = series(cur, 'alt_supply', e, 0), chn = series(cur, 'china_arrivals', e, 0),
    rel = series(cur, 'stockpile_release', e, 0);
  const s1 = alt, s2 = alt.map((v, t) => v + chn[t]), s3 = s2.map((v, t) => v + rel[t]);
  explorer.charts.supply.setData([x, s1, s2, s3, series(cur, 'demand', e, 0),
    series(cur, 'consumption', e, 0), series(base, 'consumption', e, 0)]);

  explorer.charts.status.setData([x, series(cur, 'availability', e, 3), series(base, 'availability', e, 3),
    others(cur, e), others(base, e)]);

  const tb = $('headline').querySelector('tbody');
  tb.textContent = '';
  cur.headline.forEach((h, i) => {
    const b = base.headline[i];
    const tr = document.createElement('tr');
    const cls = (a, bb, lowerWorse) => a === bb ? '' : ((a < bb) === lowerWorse ? 'worse' : 'better');
    const cells = [
      [h.element, ''],
      [(100 * h.min_availability).toFixed(1) + '%', cls(h.min_availability, b.min_availability, true)],
      [h.min_date || '-', ''],
      [(100 * b.min_availability).toFixed(1) + '%', ''],
      [h.cum_shortfall.toFixed(2) + ' t', cls(h.cum_shortfall, b.cum_shortfall, false)],
      [b.cum_shortfall.toFixed(2) + ' t', ''],
    ];
    for (const [text, c] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      if (c) td.className = c;
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  });
  $('command').textContent = cur.command;
  document.querySelectorAll('.el-name').forEach((n) => { n.textContent = $('element').value; });
}

// ---------------------------------------------------------------- buttons

async function download(url, name) {
  const r = await fetch(url, { method: 'POST', body: body() });
  if (!r.ok) { $('status').textContent = (await r.json()).error; return; }
  const blob = await r.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function copyCommand() {
  const cmd = explorer.current ? explorer.current.command : '';
  explorer.copied = cmd;
  try {
    await navigator.clipboard.writeText(cmd);
    $('status').textContent = 'Command copied.';
  } catch (e) {
    const range = document.createRange();
    range.selectNodeContents($('command'));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    $('status').textContent = 'Command selected: press Ctrl-C to copy.';
  }
}

// ---------------------------------------------------------------- start

async function start() {
  const r = await fetch('api/levers');
  explorer.levers = await r.json();
  const sc = explorer.levers.scenario;
  $('scenario-name').textContent = sc.name + ' (' + sc.file + ')';
  document.title = 'resim explorer: ' + sc.name;
  const from = $('from-month');
  for (const d of sc.dates) from.add(new Option(d, d));
  // Default: the month after the last event, when there is one inside the horizon.
  const last = explorer.levers.timeline.reduce((m, ev) => Math.max(m, ev.month), -1);
  from.value = sc.dates[Math.min(sc.dates.length - 1, Math.max(0, last + 1))];
  const el = $('element');
  for (const e of sc.elements) el.add(new Option(e, e));
  el.value = sc.elements.includes('Dy') ? 'Dy' : sc.elements[0];

  const ul = $('timeline');
  const byDate = new Map();
  for (const ev of explorer.levers.timeline) {
    if (!byDate.has(ev.date)) byDate.set(ev.date, []);
    byDate.get(ev.date).push(ev);
  }
  for (const [d, evs] of byDate) {
    const li = document.createElement('li');
    li.textContent = d + ': ' + evs.map((ev) => ev.key + ' = ' + (ev.value.length > 40 ? ev.value.slice(0, 40) + '...' : ev.value)).join('; ');
    if (evs[0].source) li.title = evs[0].source;
    ul.appendChild(li);
  }

  buildSliders();
  makeCharts();
  const b = await fetch('api/run', { method: 'POST', body: JSON.stringify({ by: 'status', metrics: METRICS }) });
  explorer.baseline = await b.json();
  explorer.current = explorer.baseline;
  draw();

  from.addEventListener('change', () => {
    // The changed timed levers move to the new month.
    const old = explorer.previousFrom;
    for (const s of sliders) {
      if (!s.spec.timed) continue;
      s.levers.forEach((l) => {
        const k = old + '.' + l.key;
        if (explorer.changes.has(k)) {
          const v = explorer.changes.get(k);
          explorer.changes.delete(k);
          if (Number(v) !== Number(baselineValue(l, s.spec))) explorer.changes.set(from.value + '.' + l.key, v);
        }
      });
    }
    explorer.previousFrom = from.value;
    syncSliders();
    explorer.inputSeq++;
    request(explorer.inputSeq, performance.now());
  });
  explorer.previousFrom = from.value;
  el.addEventListener('change', () => { buildSliders(); draw(); });
  $('reset').addEventListener('click', () => {
    explorer.changes.clear();
    syncSliders();
    explorer.inputSeq++;
    request(explorer.inputSeq, performance.now());
  });
  $('copy-command').addEventListener('click', copyCommand);
  $('download-csv').addEventListener('click', () => download('api/run.csv', sc.name + '-explorer.csv'));
  $('download-scenario').addEventListener('click', () => download('api/scenario.ini', sc.name + '-explorer.ini'));
  window.addEventListener('resize', () => {
    for (const c of Object.values(explorer.charts)) c.setSize({ width: chartWidth(), height: c.height });
  });
  explorer.ready = true;
}

start().catch((e) => { $('status').textContent = 'Could not start: ' + e; });
