// The dial9 HTML viewer. Plain DOM and canvas, no libraries, no network.
//
// Two JSON documents sit in the page: "dial9-report" is `dial9 report
// --format json` (docs/REPORT-JSON.md) and "dial9-data" the timeline and
// flamegraph data html.cpp pre-aggregates (samples counted per thread and per
// unique stack in fixed time bins, polls, spans and thread states as
// intervals, or thread states as time per bin when there are too many;
// off-CPU weights are blocked ns when off_unit is "ns"). Every
// string from the trace is untrusted (thread names, symbols, span names come
// from the traced program): it reaches the page only through textContent,
// createTextNode, attribute values or canvas fillText, never innerHTML.
'use strict';
(function () {
  const byId = (id) => document.getElementById(id);
  const R = JSON.parse(byId('dial9-report').textContent);
  const D = JSON.parse(byId('dial9-data').textContent);

  // ---- formatting -------------------------------------------------------
  // Text longer than this is cut in the page (a 1 MiB symbol would bury
  // everything else) and given whole in the element's tooltip.
  const MAX_TEXT = 1000;
  function cut(s) {
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + '… (' + (s.length - MAX_TEXT) + ' more characters)' : s;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) {
      const s = String(text);
      e.textContent = cut(s);
      if (s.length > MAX_TEXT) e.title = s;
    }
    return e;
  }
  function sig3(x) {
    return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  }
  function fmtDur(ns) {
    ns = Math.max(0, ns);
    if (ns < 1e3) return Math.round(ns) + ' ns';
    if (ns < 1e6) return sig3(ns / 1e3) + ' us';
    if (ns < 1e9) return sig3(ns / 1e6) + ' ms';
    return sig3(ns / 1e9) + ' s';
  }
  function fmtNum(n) { return Number(n).toLocaleString('en-US'); }
  function fmtPct(p) { return (Math.round(p * 10) / 10).toFixed(1) + '%'; }
  function clamp(x, lo, hi) { return Math.max(lo, Math.min(hi, x)); }

  const DUR = Math.max(1, D.duration_ns);
  const BIN = D.bin_ns;
  const NB = D.bins;
  const names = D.names;

  // ---- state ------------------------------------------------------------
  const state = {
    view: [0, DUR],      // visible time range, ns from the trace start
    sel: null,           // selected range [from, to] or null (everything)
    mark: null,          // {t, dur, lane}: a finding's moment
    mode: D.off_cpu ? 'off' : 'on',  // flamegraph: 'on' or 'off' CPU samples
    zoom: [],            // flamegraph zoom: node ids from the root
    search: '',
  };

  // ---- lanes ------------------------------------------------------------
  // Dense bins per lane, and the lane's polls and spans sorted by start.
  function dense(pairs) {
    const a = new Float64Array(NB);
    for (let i = 0; i + 1 < pairs.length; i += 2) a[pairs[i]] += pairs[i + 1];
    return a;
  }
  const lanes = D.lanes.map((l) => ({
    info: l, on: dense(l.on), off: dense(l.off), polls: [], spans: [], maxPoll: 0, maxSpan: 0,
    states: [[], [], []], maxState: [0, 0, 0], stateBins: null,
  }));
  // Thread states, by class (running, runnable, blocked), each sorted by
  // start: [lane, start, dur, state, waker name or -1].
  const STATE_CLASS = (st) => (st === 0 ? 0 : st === 1 ? 1 : 2);
  const STATE_NAMES = ['running', 'runnable', 'blocked (sleeping)', 'blocked (uninterruptible: disk I/O)',
    'blocked (stopped)', 'blocked'];
  for (const x of D.states) {
    const l = lanes[x[0]], c = STATE_CLASS(x[3]);
    l.states[c].push(x);
    l.maxState[c] = Math.max(l.maxState[c], x[2]);
  }
  // Or, past the page's cap, time per bin and class: [lane, bin, run, runnable, blocked, ...].
  for (const e of D.state_bins) {
    const l = lanes[e[0]];
    l.stateBins = new Map();
    for (let i = 1; i + 3 < e.length; i += 4) l.stateBins.set(e[i], [e[i + 1], e[i + 2], e[i + 3]]);
  }
  const HAS_STATES = D.state_bins.length > 0;
  const EXACT_STATES = D.states.length > 0;
  for (const p of D.polls) {
    const l = lanes[p[0]];
    l.polls.push(p);
    l.maxPoll = Math.max(l.maxPoll, p[2]);
  }
  for (const s of D.spans) {
    const l = lanes[s[0]];
    l.spans.push(s);
    l.maxSpan = Math.max(l.maxSpan, s[2]);
  }
  // The application's own events, [time, name, fields] in time order, on a
  // lane of their own under the threads.
  const EVENTS = D.events;
  const laneCount = lanes.length + (EVENTS.length ? 1 : 0);
  let maxOn = 1, maxOff = 1;
  for (const l of lanes) {
    for (let b = 0; b < NB; ++b) {
      if (l.on[b] > maxOn) maxOn = l.on[b];
      if (l.off[b] > maxOff) maxOff = l.off[b];
    }
  }
  function laneName(info) {
    if (info.tid === null) return info.name;
    return info.name === '' ? 'thread ' + info.tid : info.name;
  }

  // ---- overview ---------------------------------------------------------
  function overview() {
    const o = R.overview;
    const box = byId('overview');
    const item = (label, value) => {
      const s = el('span', null, label + ' ');
      s.appendChild(el('b', null, value));
      box.appendChild(s);
    };
    if (o.command) {
      item('command', o.command);
      document.title = 'dial9: ' + o.command.slice(0, 200);
    }
    item('duration', fmtDur(o.duration_ns));
    if (o.start_realtime_ns !== null) item('started', new Date(o.start_realtime_ns / 1e6).toISOString());
    item('threads', fmtNum(o.threads));
    item('on-CPU samples', fmtNum(o.cpu_samples));
    item('off-CPU samples', fmtNum(o.offcpu_samples));
    if (o.lost_samples) item('lost', fmtNum(o.lost_samples) + ' (' + fmtPct(o.lost_pct) + ')');
    if (o.event) item('event', o.event);
    item('segments', fmtNum(o.segments));
  }

  // ---- timeline ---------------------------------------------------------
  // A lane: samples, polls, spans, and thread states below them when the
  // trace has any.
  const AXIS = 22, LANE_H = HAS_STATES ? 44 : 36, STATE_Y = 35, STATE_H = 6;
  const canvas = byId('tl-canvas');
  const plot = byId('tl-plot');
  const tip = byId('tl-tip');
  const ctx = canvas.getContext('2d');
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const C = { on: color('--on'), off: color('--off'), poll: color('--poll'), span: color('--span'),
    sel: color('--sel'), mark: color('--mark'), line: color('--line'), muted: color('--muted'), event: color('--event'),
    running: color('--running'), runnable: color('--runnable'), blocked: color('--blocked') };
  const STATE_COLOURS = [C.running, C.runnable, C.blocked];

  function buildLabels() {
    const box = byId('lane-labels');
    box.style.height = (AXIS + laneCount * LANE_H) + 'px';
    lanes.forEach((l, i) => {
      const d = el('div', 'lane-label');
      d.style.top = (AXIS + i * LANE_H) + 'px';
      d.style.height = LANE_H + 'px';
      d.appendChild(el('span', 'name', laneName(l.info)));
      const bits = [];
      if (l.info.tid !== null) bits.push('tid ' + l.info.tid);
      if (l.info.worker !== null) bits.push('worker ' + l.info.worker);
      if (bits.length) d.appendChild(el('span', 'tid', bits.join(' · ')));
      d.title = laneName(l.info) + (bits.length ? ' (' + bits.join(', ') + ')' : '');
      box.appendChild(d);
    });
    if (EVENTS.length) {
      const d = el('div', 'lane-label events');
      d.style.top = (AXIS + lanes.length * LANE_H) + 'px';
      d.style.height = LANE_H + 'px';
      d.appendChild(el('span', 'name', 'custom events'));
      d.appendChild(el('span', 'tid', fmtNum(D.events_total)));
      d.title = 'Events of the application\'s own schemas' +
        (D.events_total > EVENTS.length ? ' (the first ' + fmtNum(EVENTS.length) + ' are drawn)' : '');
      box.appendChild(d);
    }
    const legend = byId('legend');
    for (const [c, label] of [[C.on, 'on-CPU samples'], [C.off, 'off-CPU (switch-out) samples'],
      [C.poll, 'polls'], [C.span, 'spans'], [C.running, 'running'], [C.runnable, 'runnable (waiting for a CPU)'],
      [C.blocked, 'blocked'], [C.event, 'custom events'], [C.sel, 'selection']]) {
      if (label === 'custom events' && !EVENTS.length) continue;
      if ((c === C.running || c === C.runnable || c === C.blocked) && !HAS_STATES) continue;
      const s = el('span');
      const sw = el('i');
      sw.style.background = c;
      s.appendChild(sw);
      s.appendChild(document.createTextNode(label));
      legend.appendChild(s);
    }
  }

  let plotW = 100;
  function sizeCanvas() {
    const dpr = window.devicePixelRatio || 1;
    plotW = Math.max(50, plot.clientWidth);
    const h = AXIS + laneCount * LANE_H;
    canvas.width = Math.round(plotW * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.height = h + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  const tx = (t) => (t - state.view[0]) / (state.view[1] - state.view[0]) * plotW;
  const xt = (x) => state.view[0] + x / plotW * (state.view[1] - state.view[0]);

  function niceStep(span, target) {
    const raw = span / target;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  // Intervals of one lane in view, merged per pixel so a million tiny polls
  // cost a pixel each, not a rectangle each.
  function drawIntervals(items, maxDur, y, h, fill) {
    const [v0, v1] = state.view;
    let lo = 0, hi = items.length;
    const from = v0 - maxDur;
    while (lo < hi) {  // first item starting at or after v0 - maxDur
      const mid = (lo + hi) >> 1;
      if (items[mid][1] < from) lo = mid + 1; else hi = mid;
    }
    ctx.fillStyle = fill;
    let runX0 = -1, runX1 = -1;
    for (let i = lo; i < items.length && items[i][1] <= v1; ++i) {
      const it = items[i];
      if (it[1] + it[2] < v0) continue;
      const x0 = Math.max(0, tx(it[1])), x1 = Math.min(plotW, Math.max(tx(it[1] + it[2]), x0 + 1));
      if (x0 <= runX1 + 0.5) { runX1 = Math.max(runX1, x1); continue; }
      if (runX1 > runX0) ctx.fillRect(runX0, y, runX1 - runX0, h);
      runX0 = x0; runX1 = x1;
    }
    if (runX1 > runX0) ctx.fillRect(runX0, y, runX1 - runX0, h);
  }

  // A lane's thread states: exact intervals merged per pixel (runnable drawn
  // last, so short waits for a CPU stay visible), else each bin's time as
  // stacked shares of the strip.
  function drawStates(l, y, b0, b1) {
    if (EXACT_STATES) {
      for (const c of [2, 0, 1]) drawIntervals(l.states[c], l.maxState[c], y, STATE_H, STATE_COLOURS[c]);
      return;
    }
    if (!l.stateBins) return;
    for (let b = b0; b <= b1; ++b) {
      const v = l.stateBins.get(b);
      if (!v) continue;
      const sum = v[0] + v[1] + v[2];
      const x0 = tx(b * BIN), w = Math.max(1, tx((b + 1) * BIN) - x0);
      let yy = y;
      for (let c = 0; c < 3; ++c) {
        if (!v[c]) continue;
        const h = STATE_H * v[c] / sum;
        ctx.fillStyle = STATE_COLOURS[c];
        ctx.fillRect(x0, yy, w, Math.max(0.5, h));
        yy += h;
      }
    }
  }

  // The index of the first event at or after time t.
  function firstAtOrAfter(events, t) {
    let lo = 0, hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid][0] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function drawTimeline() {
    const H = AXIS + laneCount * LANE_H;
    ctx.clearRect(0, 0, plotW, H);
    const [v0, v1] = state.view;
    // Axis.
    ctx.fillStyle = C.muted;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const step = niceStep(v1 - v0, Math.max(2, plotW / 110));
    ctx.strokeStyle = C.line;
    ctx.lineWidth = 1;
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      const x = Math.round(tx(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS - 6);
      ctx.lineTo(x, H);
      ctx.stroke();
      ctx.fillText('+' + fmtDur(t), x + 3, AXIS / 2 - 2);
    }
    // Lanes.
    const b0 = clamp(Math.floor(v0 / BIN), 0, NB - 1), b1 = clamp(Math.floor(v1 / BIN), 0, NB - 1);
    lanes.forEach((l, i) => {
      const y = AXIS + i * LANE_H;
      ctx.fillStyle = C.line;
      ctx.fillRect(0, y + LANE_H - 1, plotW, 1);
      for (let b = b0; b <= b1; ++b) {
        const on = l.on[b], off = l.off[b];
        if (!on && !off) continue;
        const x0 = tx(b * BIN), w = Math.max(1, tx((b + 1) * BIN) - x0);
        if (on) {
          const h = Math.max(1, Math.round(13 * on / maxOn));
          ctx.fillStyle = C.on;
          ctx.fillRect(x0, y + 15 - h, w, h);
        }
        if (off) {
          const h = Math.max(1, Math.round(6 * off / maxOff));
          ctx.fillStyle = C.off;
          ctx.fillRect(x0, y + 16, w, h);
        }
      }
      drawIntervals(l.polls, l.maxPoll, y + 23, 5, C.poll);
      drawIntervals(l.spans, l.maxSpan, y + 29, 5, C.span);
      drawStates(l, y + STATE_Y, b0, b1);
    });
    if (EVENTS.length) {
      const y = AXIS + lanes.length * LANE_H;
      ctx.fillStyle = C.event;
      let lastX = -2;
      for (let i = firstAtOrAfter(EVENTS, v0); i < EVENTS.length && EVENTS[i][0] <= v1; ++i) {
        const x = Math.floor(tx(EVENTS[i][0]));
        if (x <= lastX) continue;  // one mark a pixel
        ctx.fillRect(x - 1, y + 6, 3, LANE_H - 12);
        lastX = x;
      }
    }
    // Selection and the finding's moment.
    if (state.sel) {
      const x0 = tx(state.sel[0]), x1 = tx(state.sel[1]);
      ctx.fillStyle = C.sel;
      ctx.fillRect(x0, AXIS, Math.max(1, x1 - x0), H - AXIS);
    }
    if (state.mark) {
      const m = state.mark;
      const x0 = tx(m.t), x1 = Math.max(x0 + 2, tx(m.t + m.dur));
      ctx.strokeStyle = C.mark;
      ctx.lineWidth = 2;
      const y = m.lane === null ? AXIS : AXIS + m.lane * LANE_H;
      const h = m.lane === null ? H - AXIS : LANE_H;
      ctx.strokeRect(x0, y + 1, x1 - x0, h - 2);
    }
  }

  function selLabel() {
    const s = state.sel;
    byId('sel-label').textContent = s
      ? 'selected +' + fmtDur(s[0]) + ' to +' + fmtDur(s[1]) + ' (' + fmtDur(s[1] - s[0]) + ')'
      : 'no selection: the flamegraph covers the whole trace';
  }

  function setView(a, b) {
    const minSpan = Math.min(DUR, 1000);
    let span = clamp(b - a, minSpan, DUR);
    a = clamp(a, 0, DUR - span);
    state.view = [a, a + span];
    drawTimeline();
  }

  function setSelection(sel) {
    if (sel && sel[1] - sel[0] <= 0) sel = null;
    state.sel = sel;
    selLabel();
    drawTimeline();
    renderFlame();
    renderSelectionTables();
  }

  // The latest-starting interval of a lane (sorted by start) under time t.
  function hitInterval(items, maxDur, t, slack) {
    let lo = 0, hi = items.length;
    while (lo < hi) {  // first item starting after t + slack
      const mid = (lo + hi) >> 1;
      if (items[mid][1] <= t + slack) lo = mid + 1; else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && items[i][1] >= t - maxDur - slack; --i) {
      if (items[i][1] + items[i][2] >= t - slack) return items[i];
    }
    return null;
  }

  function showTip(e) {
    const r = plot.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    const lane = Math.floor((y - AXIS) / LANE_H);
    if (lane < 0 || lane >= laneCount) { tip.hidden = true; return; }
    const t = xt(x);
    if (lane === lanes.length) {  // custom events: the ones under the pointer
      const slack2 = (state.view[1] - state.view[0]) / plotW * 3;
      const lines2 = [];
      for (let i = firstAtOrAfter(EVENTS, t - slack2); i < EVENTS.length && EVENTS[i][0] <= t + slack2 && lines2.length < 5; ++i) {
        const ev = EVENTS[i];
        lines2.push('+' + fmtDur(ev[0]) + '  ' + names[ev[1]] + '  ' + names[ev[2]]);
      }
      if (!lines2.length) { tip.hidden = true; return; }
      tip.textContent = lines2.map(cut).join('\n');
      tip.hidden = false;
      tip.style.left = Math.min(x + 12, Math.max(0, plotW - 300)) + 'px';
      tip.style.top = (y + 14) + 'px';
      return;
    }
    const l = lanes[lane];
    const b = clamp(Math.floor(t / BIN), 0, NB - 1);
    const slack = (state.view[1] - state.view[0]) / plotW * 2;
    const lines = [laneName(l.info), '+' + fmtDur(t),
      'bin +' + fmtDur(b * BIN) + ': ' + l.on[b] + ' on-CPU, ' + l.off[b] + ' off-CPU samples'];
    const yy = y - AXIS - lane * LANE_H;
    if (yy >= 22 && yy < 29) {
      const p = hitInterval(l.polls, l.maxPoll, t, slack);
      if (p) lines.push('poll of task ' + p[3] + ' for ' + fmtDur(p[2]) + ' at +' + fmtDur(p[1]) + (p[4] >= 0 ? ', spawned at ' + names[p[4]] : ''));
    } else if (yy >= 29 && yy < STATE_Y) {
      const s = hitInterval(l.spans, l.maxSpan, t, slack);
      if (s) lines.push('span ' + names[s[3]] + ': ' + fmtDur(s[2]) + ' at +' + fmtDur(s[1]) + ', busy ' + fmtDur(s[4]));
    } else if (yy >= STATE_Y && HAS_STATES) {
      let hit = null;
      for (const c of [1, 0, 2]) hit = hit || hitInterval(l.states[c], l.maxState[c], t, slack);
      if (hit) {
        const st = hit[3];
        let what = STATE_NAMES[Math.min(st, 5)] + ' ' + fmtDur(hit[2]) + ' at +' + fmtDur(hit[1]);
        if (hit[4] >= 0) what += st === 1 ? ', woken by ' + names[hit[4]] : ', until woken by ' + names[hit[4]];
        else if (st === 1) what += ' (preempted)';
        lines.push(what);
      } else if (l.stateBins && l.stateBins.has(b)) {
        const v = l.stateBins.get(b);
        lines.push('bin: running ' + fmtDur(v[0]) + ', runnable ' + fmtDur(v[1]) + ', blocked ' + fmtDur(v[2]));
      }
    }
    tip.textContent = lines.map(cut).join('\n');
    tip.hidden = false;
    tip.style.left = Math.min(x + 12, Math.max(0, plotW - 300)) + 'px';
    tip.style.top = (y + 14) + 'px';
  }

  function timelineEvents() {
    let drag = null;
    plot.addEventListener('mousedown', (e) => {
      if (e.button !== 0) return;
      const x = e.clientX - plot.getBoundingClientRect().left;
      drag = { brush: e.shiftKey, x0: x, t0: xt(x), view: state.view.slice(), moved: false };
      if (!drag.brush) plot.classList.add('dragging');
      e.preventDefault();
    });
    window.addEventListener('mousemove', (e) => {
      if (!drag) { if (e.target === canvas) showTip(e); else tip.hidden = true; return; }
      tip.hidden = true;
      const x = e.clientX - plot.getBoundingClientRect().left;
      if (Math.abs(x - drag.x0) > 2) drag.moved = true;
      if (drag.brush) {
        const t = clamp(xt(x), 0, DUR);
        state.sel = [Math.min(drag.t0, t), Math.max(drag.t0, t)];
        selLabel();
        drawTimeline();
      } else {
        const dt = (x - drag.x0) / plotW * (drag.view[1] - drag.view[0]);
        setView(drag.view[0] - dt, drag.view[1] - dt);
      }
    });
    window.addEventListener('mouseup', () => {
      if (!drag) return;
      plot.classList.remove('dragging');
      if (drag.brush) setSelection(drag.moved ? state.sel : null);
      drag = null;
    });
    plot.addEventListener('mouseleave', () => { tip.hidden = true; });
    plot.addEventListener('wheel', (e) => {
      e.preventDefault();
      const x = e.clientX - plot.getBoundingClientRect().left;
      const t = xt(x);
      const f = Math.exp(clamp(e.deltaY, -300, 300) * 0.002);
      const [v0, v1] = state.view;
      setView(t - (t - v0) * f, t + (v1 - t) * f);
    }, { passive: false });
    byId('tl-reset').addEventListener('click', () => { state.mark = null; setView(0, DUR); });
    byId('tl-select-view').addEventListener('click', () => setSelection(state.view.slice()));
    byId('tl-clear').addEventListener('click', () => { state.mark = null; setSelection(null); });
    window.addEventListener('resize', () => { sizeCanvas(); drawTimeline(); renderFlame(); });
  }

  // Shows a moment (a finding's or a table row's) on the timeline: zoomed
  // around it, outlined, and selected so the flamegraph shows its samples.
  function gotoMoment(t, dur, lane) {
    const pad = Math.max(dur * 0.5, BIN * 2, 1e5);
    state.mark = { t: t, dur: dur, lane: lane };
    setView(t - pad, t + dur + pad);
    setSelection([clamp(t, 0, DUR), clamp(t + Math.max(dur, 1), 0, DUR)]);
    byId('timeline-section').scrollIntoView({ block: 'start' });
  }
  function gotoLink(t, dur, lane, text) {
    const a = el('a', 'goto', text || 'show on timeline');
    a.href = '#';
    a.addEventListener('click', (e) => { e.preventDefault(); gotoMoment(t, dur, lane); });
    return a;
  }

  // ---- flamegraph -------------------------------------------------------
  const flame = byId('flame');
  const frameNode = new WeakMap();
  let tree = null;

  // A flamegraph weight as the page says it: samples, or off-CPU blocked time.
  function amount(v) {
    return state.mode === 'off' && D.off_unit === 'ns' ? fmtDur(v) + ' blocked' : fmtNum(v) + ' samples';
  }

  function selectedBins() {
    if (!state.sel) return [0, NB - 1];
    const a = clamp(Math.floor(state.sel[0] / BIN), 0, NB - 1);
    const b = clamp(Math.floor(Math.max(state.sel[0], state.sel[1] - 1) / BIN), 0, NB - 1);
    return [a, b];
  }

  // Stack weights in the selected bins: [[stack index, weight]...].
  function stackWeights(mode) {
    const [a, b] = selectedBins();
    const out = [];
    for (const e of D[mode]) {
      let w = 0;
      for (let i = 1; i + 1 < e.length; i += 2) if (e[i] >= a && e[i] <= b) w += e[i + 1];
      if (w) out.push([e[0], w]);
    }
    return out;
  }

  function buildTree() {
    const root = { id: -1, name: 'all', kind: -1, value: 0, self: 0, children: new Map(), parent: null, depth: 0 };
    for (const [si, w] of stackWeights(state.mode)) {
      let cur = root;
      root.value += w;
      for (const nid of D.stacks[si]) {
        let c = cur.children.get(nid);
        if (!c) {
          c = { id: nid, name: names[D.nodes[nid][0]], kind: D.nodes[nid][1], value: 0, self: 0,
            children: new Map(), parent: cur, depth: cur.depth + 1 };
          cur.children.set(nid, c);
        }
        c.value += w;
        cur = c;
      }
      cur.self += w;
    }
    return root;
  }

  function hue(name) {
    let h = 0;
    for (let i = 0; i < name.length && i < 64; ++i) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return h;
  }
  function frameColor(n) {
    const h = hue(n.name);
    switch (n.kind) {
      case 1: return 'hsl(' + (20 + h % 20) + ',75%,' + (62 + h % 10) + '%)';   // kernel
      case 2: return 'hsl(' + (180 + h % 20) + ',55%,' + (65 + h % 10) + '%)';  // inlined
      case 3: return 'hsl(0,0%,' + (75 + h % 10) + '%)';                          // unnamed
      case -1: return 'hsl(220,20%,80%)';                                         // root
      default: return 'hsl(' + (h % 50) + ',80%,' + (60 + h % 12) + '%)';        // user
    }
  }

  function zoomNode() {
    let n = tree;
    const kept = [];
    for (const id of state.zoom) {
      const c = n.children.get(id);
      if (!c) break;
      kept.push(id);
      n = c;
    }
    state.zoom = kept;
    return n;
  }
  function pathOf(n) {
    const p = [];
    for (; n && n.id !== -1; n = n.parent) p.push(n.id);
    return p.reverse();
  }

  function matches(n) { return state.search !== '' && n.name.toLowerCase().includes(state.search); }
  // Samples under frames that match, each sample counted once.
  function matchedValue(n) {
    if (matches(n)) return n.value;
    let v = 0;
    for (const c of n.children.values()) v += matchedValue(c);
    return v;
  }

  const ROW = 18;
  function renderFlame() {
    tree = buildTree();
    const z = zoomNode();
    while (flame.firstChild) flame.removeChild(flame.firstChild);
    const W = Math.max(100, flame.clientWidth);
    const total = tree.value;
    let maxDepth = 0;
    const add = (n, depth, x, w, ancestor) => {
      const d = el('div', 'frame' + (ancestor ? ' ancestor' : '') + (matches(n) ? ' match' : ''), n.name);
      d.style.left = x + 'px';
      d.style.width = w + 'px';
      d.style.top = (depth * ROW) + 'px';
      d.style.background = frameColor(n);
      d.title = n.name + '\n' + amount(n.value) + ' (' + fmtPct(total ? 100 * n.value / total : 0) +
        ' of the selection), self ' + amount(n.self);
      frameNode.set(d, n);
      flame.appendChild(d);
      maxDepth = Math.max(maxDepth, depth);
    };
    // The zoomed frame's ancestors, full width, then the frame and its callees.
    const chain = [];
    for (let a = z.parent; a; a = a.parent) chain.unshift(a);
    chain.forEach((a, i) => add(a, i, 0, W, true));
    const base = chain.length;
    const lay = (n, depth, x, w) => {
      add(n, depth, x, w, false);
      const kids = Array.from(n.children.values()).sort((p, q) => (p.name < q.name ? -1 : p.name > q.name ? 1 : 0));
      let cx = x;
      for (const c of kids) {
        const cw = n.value ? w * c.value / n.value : 0;
        if (cw >= 1) lay(c, depth + 1, cx, cw);
        cx += cw;
      }
    };
    if (total > 0) lay(z, base, 0, W);
    else flame.appendChild(el('p', 'muted empty', 'No ' + (state.mode === 'on' ? 'on-CPU' : 'off-CPU') + ' samples with a stack in ' + (state.sel ? 'the selection.' : 'the trace.')));
    flame.style.height = ((maxDepth + 1) * ROW + 4) + 'px';

    const what = state.mode === 'on' ? 'on-CPU' : 'off-CPU';
    const [a, b] = selectedBins();
    byId('flame-total').textContent = (state.mode === 'off' && D.off_unit === 'ns' ? fmtDur(total) + ' off-CPU blocked time'
      : fmtNum(total) + ' ' + what + ' samples') +
      (state.sel ? ' from +' + fmtDur(a * BIN) + ' to +' + fmtDur(Math.min(DUR, (b + 1) * BIN)) : ' in the whole trace');
    if (state.search !== '') {
      const m = matchedValue(tree);
      byId('flame-match').textContent = 'matched ' + amount(m) + ' (' + fmtPct(total ? 100 * m / total : 0) + ')';
    } else {
      byId('flame-match').textContent = '';
    }
    const trail = byId('flame-trail');
    while (trail.firstChild) trail.removeChild(trail.firstChild);
    if (z !== tree) {
      const a2 = el('a', null, 'all');
      a2.addEventListener('click', () => { state.zoom = []; renderFlame(); });
      trail.appendChild(document.createTextNode('zoomed: '));
      trail.appendChild(a2);
      trail.appendChild(document.createTextNode(' › ' + cut(z.name)));
    }
  }

  function flameEvents() {
    for (const r of document.querySelectorAll('input[name=flame-mode]')) r.checked = r.value === state.mode;
    flame.addEventListener('click', (e) => {
      const d = e.target.closest('.frame');
      if (!d) return;
      const n = frameNode.get(d);
      if (!n) return;
      state.zoom = pathOf(n);
      renderFlame();
    });
    byId('flame-reset').addEventListener('click', () => { state.zoom = []; renderFlame(); });
    byId('flame-search').addEventListener('input', (e) => {
      state.search = e.target.value.trim().toLowerCase();
      renderFlame();
    });
    for (const r of document.querySelectorAll('input[name=flame-mode]')) {
      r.addEventListener('change', (e) => { state.mode = e.target.value; state.zoom = []; renderFlame(); renderSelectionTables(); });
    }
  }

  // ---- findings and tables ----------------------------------------------
  function stackList(frames, max) {
    const ul = el('ul', 'stack');
    frames.slice(0, max || 60).forEach((f) => ul.appendChild(el('li', null, f)));
    if (frames.length > (max || 60)) ul.appendChild(el('li', 'muted', '… ' + (frames.length - (max || 60)) + ' more frames'));
    return ul;
  }

  function findings() {
    const box = byId('findings');
    if (!R.findings.length) box.appendChild(el('p', 'muted', 'No findings.'));
    R.findings.forEach((f, i) => {
      const d = el('div', 'finding ' + f.severity);
      const head = el('div');
      head.appendChild(el('span', 'sev', f.severity));
      head.appendChild(el('span', 'title', f.title));
      const at = D.finding_at[i];
      if (at) head.appendChild(gotoLink(at[0], at[1], at[2]));
      d.appendChild(head);
      if (f.evidence) d.appendChild(el('div', 'evidence', f.evidence));
      if (f.stack && f.stack.length) d.appendChild(stackList(f.stack, 30));
      if (f.next) d.appendChild(el('div', 'next', f.next));
      box.appendChild(d);
    });
    const o = R.overview;
    for (const s of o.degraded.concat(o.warnings)) box.appendChild(el('p', 'muted', s));
  }

  // A table; each cell is text, a number (right-aligned) or a Node.
  function table(headers, rows) {
    const t = el('table');
    const tr = el('tr');
    for (const h of headers) tr.appendChild(el('th', null, h));
    const thead = el('thead');
    thead.appendChild(tr);
    t.appendChild(thead);
    const tb = el('tbody');
    for (const r of rows) {
      const row = el('tr');
      for (const c of r) {
        if (c instanceof Node) { const td = el('td'); td.appendChild(c); row.appendChild(td); }
        else row.appendChild(el('td', typeof c === 'number' ? 'num' : null, typeof c === 'number' ? fmtNum(c) : c));
      }
      tb.appendChild(row);
    }
    t.appendChild(tb);
    return t;
  }
  function section(parent, title, node) {
    parent.appendChild(el('h3', null, title));
    parent.appendChild(node);
  }
  const orDash = (v, f) => (v === null || v === undefined ? '–' : f(v));
  const latencyRow = (s) => [s.count, fmtDur(s.p50_ns), fmtDur(s.p90_ns), fmtDur(s.p99_ns), fmtDur(s.max_ns)];

  // Tables that follow the selection: functions and threads in it.
  const selBox = el('div');
  function renderSelectionTables() {
    while (selBox.firstChild) selBox.removeChild(selBox.firstChild);
    const what = state.mode === 'on' ? 'on-CPU' : 'off-CPU';
    const self = new Map(), totalBy = new Map();
    let total = 0;
    for (const [si, w] of stackWeights(state.mode)) {
      const st = D.stacks[si];
      total += w;
      if (st.length) {
        const leaf = names[D.nodes[st[st.length - 1]][0]];
        self.set(leaf, (self.get(leaf) || 0) + w);
      }
      const seen = new Set();
      for (const nid of st) {
        const nm = names[D.nodes[nid][0]];
        if (seen.has(nm)) continue;
        seen.add(nm);
        totalBy.set(nm, (totalBy.get(nm) || 0) + w);
      }
    }
    const byTime = state.mode === 'off' && D.off_unit === 'ns';
    const val = (v) => (byTime ? fmtDur(v) : v);
    const rows = Array.from(self.entries()).sort((a, b) => b[1] - a[1]).slice(0, 15)
      .map(([nm, v]) => [nm, val(v), fmtPct(total ? 100 * v / total : 0), val(totalBy.get(nm)), fmtPct(total ? 100 * totalBy.get(nm) / total : 0)]);
    section(selBox, 'Top functions (' + what + ', ' + (state.sel ? 'selection' : 'whole trace') + ')',
      rows.length ? table(['function', 'self', 'self %', 'total', 'total %'], rows) : el('p', 'muted', 'No samples.'));
    const [a, b] = selectedBins();
    const trows = [];
    lanes.forEach((l) => {
      let on = 0, off = 0;
      for (let i = a; i <= b; ++i) { on += l.on[i]; off += l.off[i]; }
      if (on || off) trows.push([laneName(l.info), l.info.tid === null ? '–' : String(l.info.tid), on, off]);
    });
    trows.sort((p, q) => q[2] - p[2]);
    section(selBox, 'Threads (' + (state.sel ? 'selection' : 'whole trace') + ')',
      trows.length ? table(['thread', 'tid', 'on-CPU samples', 'off-CPU samples'], trows) : el('p', 'muted', 'No samples.'));
    if (EVENTS.length) {
      const from = state.sel ? state.sel[0] : 0, to = state.sel ? state.sel[1] : DUR;
      const erows = [];
      let n = 0;
      for (let i = firstAtOrAfter(EVENTS, from); i < EVENTS.length && EVENTS[i][0] <= to; ++i, ++n) {
        const ev = EVENTS[i];
        if (erows.length < 200) erows.push([gotoLink(ev[0], 0, lanes.length, '+' + fmtDur(ev[0])), names[ev[1]], names[ev[2]]]);
      }
      section(selBox, 'Custom events (' + (state.sel ? 'selection' : 'whole trace') + ', ' + fmtNum(n) +
        (n > erows.length ? ', the first ' + erows.length + ' listed' : '') + ')',
        erows.length ? table(['at', 'event', 'fields'], erows) : el('p', 'muted', 'None.'));
    }
  }

  function tables() {
    const box = byId('tables');
    box.appendChild(el('h2', null, 'Tables'));
    box.appendChild(selBox);
    renderSelectionTables();
    const whole = el('div');
    box.appendChild(whole);
    if (R.hot_functions.length) {
      section(whole, 'Hot functions (report)', table(['function', 'module', 'self', 'self %', 'total', 'total %'],
        R.hot_functions.map((h) => [h.function, h.module, h.self_samples, fmtPct(h.self_pct), h.total_samples, fmtPct(h.total_pct)])));
    }
    if (R.threads.length) {
      section(whole, 'Threads (report)', table(['tid', 'name', 'on-CPU samples', 'CPU %', 'running', 'runnable', 'blocked', 'top function'],
        R.threads.map((t) => [String(t.tid), t.name, t.cpu_samples, fmtPct(t.cpu_pct), orDash(t.running_ns, fmtDur),
          orDash(t.runnable_ns, fmtDur), orDash(t.blocked_ns, fmtDur), t.top_function])));
    }
    for (const n of R.overview.sched_notes) whole.appendChild(el('p', 'muted', 'Scheduler data missing: ' + n));
    if (R.off_cpu.length) {
      const timed = R.off_cpu[0].blocked_ns !== null;
      section(whole, 'Off-CPU stacks', table(['thread', timed ? 'waits' : 'samples', 'blocked', 'woken by', 'stack'],
        R.off_cpu.map((o) => [o.thread || String(o.tid), o.count, orDash(o.blocked_ns, fmtDur),
          o.woken_by.map((w) => w.thread + (w.tid ? ' (' + w.tid + ')' : '') + ' ×' + w.count).join(', '),
          stackList(o.stack, 12)])));
    }
    if (R.sched_latency) {
      const s = R.sched_latency;
      section(whole, 'Scheduler latency (' + s.source + ')', table(['thread', 'count', 'p50', 'p90', 'p99', 'max'],
        [['all'].concat(latencyRow(s))].concat(s.per_thread.map((t) => [t.name || String(t.tid)].concat(latencyRow(t))))));
    }
    const rt = R.runtime;
    if (rt) {
      section(whole, 'Runtime workers', table(['worker', 'tid', 'active', 'polls', 'parks', 'busy'],
        rt.workers.map((w) => [String(w.worker_id), String(w.tid), fmtPct(w.active_pct), w.polls, w.parks, fmtDur(w.busy_ns)])));
      if (rt.long_polls.length) {
        const laneOfWorker = new Map();
        lanes.forEach((l, i) => { if (l.info.worker !== null && !laneOfWorker.has(l.info.worker)) laneOfWorker.set(l.info.worker, i); });
        section(whole, 'Long polls', table(['worker', 'task', 'spawned at', 'at', 'duration', 'samples', 'stack'],
          rt.long_polls.map((p) => {
            const t = p.start_ns - D.start_ns;
            const lane = laneOfWorker.has(p.worker_id) ? laneOfWorker.get(p.worker_id) : null;
            return [String(p.worker_id), String(p.task_id), p.spawn_loc, gotoLink(t, p.duration_ns, lane, '+' + fmtDur(t)),
              fmtDur(p.duration_ns), p.samples, stackList(p.stack, 8)];
          })));
      }
      section(whole, 'Wake to poll', table(['count', 'p50', 'p90', 'p99', 'max', 'over 5 ms'],
        [latencyRow(rt.wake_to_poll).concat([rt.wake_to_poll_over_5ms])]));
      if (rt.polls_by_spawn.length) {
        section(whole, 'Polls by spawn location', table(['spawned at', 'count', 'p50', 'p90', 'p99', 'max'],
          rt.polls_by_spawn.map((s) => [s.spawn_loc].concat(latencyRow(s)))));
      }
    }
    if (R.spans.length) {
      section(whole, 'Spans', table(['span', 'count', 'p50', 'p90', 'p99', 'max'],
        R.spans.map((s) => [s.name].concat(latencyRow(s)))));
    }
    if (R.custom_events.length) {
      section(whole, 'Custom events', table(['event', 'count'], R.custom_events.map((c) => [c.name, c.count])));
    }
    if (D.polls_total > D.polls.length || D.spans_total > D.spans.length) {
      whole.appendChild(el('p', 'muted', 'The timeline draws the ' + fmtNum(D.polls.length) + ' longest of ' +
        fmtNum(D.polls_total) + ' polls and ' + fmtNum(D.spans.length) + ' longest of ' + fmtNum(D.spans_total) + ' spans.'));
    }
    if (HAS_STATES && !EXACT_STATES) {
      whole.appendChild(el('p', 'muted', 'The ' + fmtNum(D.states_total) + ' thread-state intervals are too many to ' +
        'draw one by one: each lane shows its running, runnable and blocked time per ' + fmtDur(BIN) + ' bin.'));
    }
  }

  // ---- start ------------------------------------------------------------
  overview();
  buildLabels();
  sizeCanvas();
  selLabel();
  drawTimeline();
  timelineEvents();
  flameEvents();
  renderFlame();
  findings();
  tables();

  // For tests and the console: read-only views of the state.
  window.dial9 = Object.freeze({
    lanes: () => lanes.length,
    states: () => (EXACT_STATES ? 'intervals' : HAS_STATES ? 'bins' : 'none'),
    laneNames: () => lanes.map((l) => laneName(l.info)),
    flameTotal: () => (tree ? tree.value : 0),
    zoomedFrame: () => (tree ? zoomNode().name : ''),
    selection: () => (state.sel ? state.sel.slice() : null),
    view: () => state.view.slice(),
    ready: true,
  });
})();
