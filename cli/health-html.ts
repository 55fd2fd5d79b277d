/**
 * The `wh health --html` page: one self-contained file (no network) with the reports' data as
 * JSON and uPlot's browser build and stylesheet inlined, read from node_modules at run time. Plots:
 * rows per partition (this version and the previous one), total rows over the reports, missing
 * sessions on a calendar strip, and each price jump or split with the prices around it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { WarehouseError } from '../src/log/index.js';
import type { HealthReport } from '../src/projections/index.js';

export interface HealthPageOptions {
  /** How the point was named. */
  readonly point: string;
  /** The reports of a dataset over time, oldest first. */
  readonly history: (dataset: string) => readonly HealthReport[];
  /** Directory holding uPlot's `dist/` (default: resolved from node_modules). */
  readonly uplotDir?: string;
}

function uplotAssets(dir: string | undefined): { js: string; css: string } {
  try {
    const dist = dir !== undefined ? join(dir, 'dist') : join(createRequire(import.meta.url).resolve('uplot/package.json'), '..', 'dist');
    return { js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
  } catch (e) {
    throw new WarehouseError('IO_ERROR', 'the plotting library uPlot is not installed, so no --html page can be drawn', {
      suggestion: 'install wh with its dependencies (npm install), which includes uplot',
      cause: e,
    });
  }
}

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page as a string. */
export function renderHealthPage(reports: readonly HealthReport[], options: HealthPageOptions): string {
  const { js, css } = uplotAssets(options.uplotDir);
  const data = {
    point: options.point,
    reports: reports.map((r) => ({
      ...r,
      history: options.history(r.dataset).map((h) => ({ seq: h.reportSeq, at: h.reportedAt, rows: h.partitions.reduce((n, p) => n + p.rows, 0), findings: h.findings.length })),
    })),
  };
  const total = reports.reduce((n, r) => n + r.findings.length, 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>wh health — ${esc(options.point)}</title>
<style>${css}
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:14px;margin:16px 0 4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
.ok{color:#1a7f37}.bad{color:#b42318}.plots{display:flex;flex-wrap:wrap;gap:16px}.muted{color:#666}
</style></head>
<body>
<h1>wh health <span class="muted">at ${esc(options.point)}</span></h1>
<p class="${total === 0 ? 'ok' : 'bad'}">${reports.length} dataset(s), ${total} finding(s).</p>
<div id="wh-root"></div>
<script type="application/json" id="wh-data">${scriptJson(data)}</script>
<script>${js}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** Runs in the page: builds tables and uPlot charts from #wh-data; exposes `window.whCharts` for tests. */
const PAGE_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('wh-data').textContent);
  var root = document.getElementById('wh-root');
  window.whCharts = [];
  function el(tag, attrs, text) { var e = document.createElement(tag); for (var k in attrs || {}) e.setAttribute(k, attrs[k]); if (text != null) e.textContent = text; return e; }
  function ts(d) { return Date.parse(d + 'T00:00:00Z') / 1000; }
  function chart(parent, kind, dataset, title, opts, series) {
    var box = el('div', { 'class': 'plot', 'data-kind': kind, 'data-dataset': dataset });
    parent.appendChild(box);
    opts.title = title; opts.width = opts.width || 520; opts.height = opts.height || 220;
    var u = new uPlot(opts, series, box);
    window.whCharts.push({ kind: kind, dataset: dataset, title: title, points: series[0].length, series: series.length - 1, plot: u });
    return u;
  }
  var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
  data.reports.forEach(function (r) {
    var sec = el('section', { 'data-dataset': r.dataset }); root.appendChild(sec);
    sec.appendChild(el('h2', {}, r.dataset + ' — ' + r.findings.length + ' finding(s), reported after ' + r.trigger + ' (seq ' + r.reportSeq + ')'));
    var plots = el('div', { 'class': 'plots' }); sec.appendChild(plots);
    var parts = r.partitions;
    var labels = parts.map(function (p) { return p.partition; });
    chart(plots, 'rows', r.dataset, 'rows per partition', {
      scales: { x: { time: false, range: [-0.5, parts.length - 0.5] }, y: { range: function (u, lo, hi) { return [0, hi * 1.1 || 1]; } } },
      axes: [{ values: function (u, vals) { return vals.map(function (v) { return labels[v] != null && v === Math.round(v) ? labels[v] : ''; }); } }, {}],
      series: [{}, { label: 'this version', stroke: '#2563eb', fill: 'rgba(37,99,235,0.25)', paths: bars, points: { show: false } },
               { label: 'previous version', stroke: '#9ca3af', points: { show: true, size: 7 } }]
    }, [parts.map(function (_, i) { return i; }), parts.map(function (p) { return p.rows; }), parts.map(function (p) { return p.previousRows; })]);
    if (r.history.length > 0) {
      chart(plots, 'history', r.dataset, 'rows over the reports', {
        series: [{}, { label: 'rows', stroke: '#059669', points: { show: true, size: 6 } }]
      }, [r.history.map(function (h) { return Date.parse(h.at) / 1000; }), r.history.map(function (h) { return h.rows; })]);
    }
    r.findings.filter(function (f) { return f.kind === 'missing_sessions'; }).forEach(function (f) {
      var xs = f.samples.map(function (s) { return ts(s.date); });
      var year = /^\d{4}$/.test(f.partition || '') ? Number(f.partition) : null;
      var span = year !== null ? [Date.UTC(year, 0, 1) / 1000, Date.UTC(year, 11, 31) / 1000] : [Math.min.apply(null, xs) - 15 * 86400, Math.max.apply(null, xs) + 15 * 86400];
      chart(plots, 'missing_sessions', r.dataset, 'missing sessions, ' + (f.partition || ''), {
        width: 1060, height: 160, scales: { x: { range: function () { return span; } }, y: { range: function (u, lo, hi) { return [0, hi * 1.1 || 1]; } } }, series: [{}, { label: 'series missing', stroke: '#dc2626', fill: 'rgba(220,38,38,0.5)', paths: bars, points: { show: false } }]
      }, [xs, f.samples.map(function (s) { return s.missing; })]);
    });
    r.findings.filter(function (f) { return f.kind === 'price_jump' || f.kind === 'split_without_move'; }).forEach(function (f) {
      f.windows.forEach(function (w) {
        chart(plots, f.kind, r.dataset, (f.kind === 'price_jump' ? 'jump ' : 'split without move ') + w.label, {
          width: 340, height: 200, series: [{}, { label: 'price', stroke: f.kind === 'price_jump' ? '#b42318' : '#7c3aed', points: { show: true, size: 6 } }],
          scales: { y: { distr: 3 } }, axes: [{}, { size: 70 }]
        }, [w.points.map(function (p) { return ts(p[0]); }), w.points.map(function (p) { return p[1]; })]);
      });
    });
    if (r.findings.length > 0) {
      var t = el('table'); t.appendChild(el('tr')).append(el('th', {}, 'partition'), el('th', {}, 'kind'), el('th', {}, 'count'), el('th', {}, 'message'));
      r.findings.forEach(function (f) { t.appendChild(el('tr')).append(el('td', {}, f.partition || ''), el('td', {}, f.kind), el('td', {}, String(f.count)), el('td', {}, f.message)); });
      sec.appendChild(t);
    } else sec.appendChild(el('p', { 'class': 'ok' }, 'no findings'));
  });
  document.body.setAttribute('data-ready', 'true');
})();
`;
