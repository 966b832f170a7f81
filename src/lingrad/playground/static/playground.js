// lingrad playground: the page draws and edits; the server (lingrad) computes every number.
// The whole view (data, W, settings, seed) lives in the URL hash, so a link reproduces it.
"use strict";

const COLORS = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b"];
const REGION = [[248, 196, 196], [196, 234, 196], [190, 214, 240], [252, 220, 180], [220, 204, 236], [222, 204, 196]];
const VIEW = 4;          // the plot shows [-VIEW, VIEW]^2
const ARROW = 1.5;       // an arrow is drawn as ARROW * w_c (longer, easier to grab) ...
const MIN_ARROW_PX = 36; // ... but never shorter than this on screen (the table has the truth)
const HANDLE_R = 14;     // a handle answers the mouse within this many pixels
// The feature maps the server offers (lingrad.playground.features), mirrored for drawing only.
const FEATURE_MAPS = {
  "x1^2": (a, b) => a * a, "x2^2": (a, b) => b * b, "x1*x2": (a, b) => a * b,
  "sin x1": (a) => Math.sin(a), "sin x2": (a, b) => Math.sin(b),
};
const FEATURE_ORDER = Object.keys(FEATURE_MAPS);
const COORD_SCALE = 1000; // points are kept to 3 decimals (exact in the URL)
let FORMULAS = {};       // loss name -> its formula as HTML, from /api/options

const S = {
  dataset: "blobs", nClasses: 3, nPerClass: 10, seed: 0,
  X: [], y: [], W: [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
  loss: "hinge", lam: 0.1, lr: 0.1, optimizer: "sgd", momentum: 0.9, addClass: 0,
  features: [], noise: null, testFraction: 0, Xt: [], yt: [], batch: 0, budget: 0,
  confidence: false,
};
const SEARCHES = ["random_search", "random_local_search"];
let evaluations = 0;     // J evaluations spent (a gradient step is one)
let optState = null;     // the optimiser state, sent back with each step (the server keeps none)
let stepCount = 0;
let history = [];        // [{loss, data}] after each evaluation that follows a step
let marks = [];          // [{at, label}]: where the objective or the data changed
let stepsPerRequest = 1; // grows while the server answers faster than a frame
let evaluation = null;
let running = false;
let inflight = false;
let pending = false;
let limits = { max_points: 10000 };
let hoverRow = -1;       // the table row under the mouse, ringed on the plot

const $ = (id) => document.getElementById(id);
const plot = $("plot");
const ctx = plot.getContext("2d");

// ---------------------------------------------------------------- the API

async function post(path, body) {
  return fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
}

async function api(path, body) {
  const res = await post(path, body);
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function problem() {
  const p = { X: S.X, y: S.y, W: S.W, loss: S.loss, lam: S.lam, features: S.features };
  if (S.Xt.length) { p.X_test = S.Xt; p.y_test = S.yt; }
  return p;
}

function optimizerSpec() {
  return { name: S.optimizer, learning_rate: S.lr, momentum: S.momentum, state: optState };
}

// A notice above the plot (divergence), cleared by the next step or reset.
function showBanner(text) {
  $("banner").textContent = text || "";
  $("banner").hidden = !text;
}

function showError(err) {
  $("status").textContent = err ? String(err.message || err) : "";
  $("status").classList.toggle("error", Boolean(err));
}

// One request at a time; an edit made meanwhile is evaluated when the request comes back.
// body[data-busy] is "1" while a request is out or an edit awaits one (tests wait on it).
async function exclusive(fn) {
  if (inflight) return false;
  inflight = true;
  document.body.dataset.busy = "1";
  try { await fn(); } finally { inflight = false; }
  if (pending) evaluateNow(); else document.body.dataset.busy = "0";
  return true;
}

async function evaluateNow() {
  if (inflight) { pending = true; return; }
  await exclusive(async () => {
    try {
      do {
        pending = false;
        if (!S.X.length) { evaluation = null; render(); break; }
        evaluation = await api("/api/evaluate", problem());
        showError(null);
        render();
      } while (pending);
    } catch (err) {
      showError(err);
    } finally {
      writeHash();
    }
  });
}

// k optimiser steps in one request (k = 1 for the Step button). A step that diverges is not
// taken: the server answers the last finite weights and why; the page stops there.
async function step(k = 1) {
  if (!S.X.length) return;
  if (S.budget > 0) {
    k = Math.min(k, S.budget - evaluations);
    if (k <= 0) {
      setRunning(false);
      showError(new Error(`budget: all ${S.budget} evaluations of J are spent (raise it or reset)`));
      return;
    }
  }
  const started = performance.now();
  const body = { ...problem(), optimizer: optimizerSpec(), steps: k, on_divergence: "stop", seed: S.seed };
  if (S.batch > 0 && !SEARCHES.includes(S.optimizer)) body.batch_size = S.batch;
  const res = await api("/api/step", body);
  const taken = res.history.length;
  S.W = res.W;
  optState = res.state;
  stepCount += taken;
  evaluations += SEARCHES.includes(S.optimizer) ? res.evaluations - (body.optimizer.state ? body.optimizer.state.evaluations || 0 : 0) : taken;
  evaluation = res.evaluation;
  for (let t = 1; t < taken; t++) history.push({ loss: res.history[t] });
  if (taken) history.push(historyPoint());
  if (res.diverged) {
    setRunning(false);
    showError(new Error(res.message));
    showBanner(`Stopped: ${res.message}`);
  } else {
    showError(null);
  }
  adaptSteps(performance.now() - started, k);
  render();
  writeHash();
}

// Several steps per request while a request is short (its cost is mostly the round trip, not
// lingrad's steps), fewer when it grows long; the page paints while a request is out.
function adaptSteps(ms, k) {
  if (k !== stepsPerRequest) return;
  if (ms < 80 && stepsPerRequest < 64) stepsPerRequest *= 2;
  else if (ms > 250 && stepsPerRequest > 1) stepsPerRequest = Math.max(1, stepsPerRequest >> 1);
}

async function safeStep(k = 1) {
  try { await step(k); } catch (err) { showError(err); setRunning(false); }
}

function setRunning(on) {
  if (on) showBanner(null);
  const stopped = running && !on;
  running = on;
  if (stopped) { render(); writeHash(); }
  $("run").textContent = on ? "Pause" : "Run";
  $("run").classList.toggle("running", on);
  if (on) loop();
}

async function loop() {
  while (running) {
    await exclusive(() => safeStep(stepsPerRequest));
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

async function newData() {
  const req = {
    name: S.dataset, n_per_class: S.nPerClass, n_classes: S.nClasses, seed: S.seed,
    test_fraction: S.testFraction,
  };
  if (S.noise !== null) req.noise = S.noise;
  const data = await api("/api/dataset", req);
  S.X = data.X; S.y = data.y; S.Xt = data.X_test; S.yt = data.y_test;
  await resetWeights();
}

async function resetWeights() {
  const w = await api("/api/weights", { n_classes: S.nClasses, seed: S.seed, features: S.features });
  S.W = w.W;
  optState = null; stepCount = 0; history = []; marks = []; stepsPerRequest = 1; evaluations = 0;
  showBanner(null);
  await evaluateNow();
  if (evaluation) history.push(historyPoint());
  render();
}

// What the chart keeps after an evaluation: J, the data loss and the test loss if any.
function historyPoint() {
  const p = { loss: evaluation.loss, data: evaluation.data_loss };
  if (evaluation.test_loss !== undefined) p.test = evaluation.test_loss;
  return p;
}

// ---------------------------------------------------------------- your data in, your model out

// Points from a CSV file (checked by the server; its error, naming the line, shows here).
async function loadCsv(file) {
  const text = await file.text();
  const data = await api("/api/csv", { text });
  setRunning(false);
  S.X = data.X; S.y = data.y; S.Xt = []; S.yt = []; S.testFraction = 0;
  S.nClasses = data.n_classes;
  renderControls();
  await resetWeights();
  showError(null);
  $("status").textContent = `loaded ${S.X.length} points of ${S.nClasses} classes from ${file.name}`;
}

function saveAs(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function exportScript() {
  const data = await api("/api/export", problem());
  saveAs(new Blob([data.script], { type: "text/x-python" }), "playground_export.py");
}

async function exportModel() {
  const res = await post("/api/model", problem());
  if (!res.ok) throw new Error((await res.json()).error);
  saveAs(await res.blob(), "playground.npz");
}

// ---------------------------------------------------------------- the URL (state <-> hash)

function b64url(bytes) {
  let s = "";
  bytes.forEach((b) => { s += String.fromCharCode(b); });
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function encodePoints(X = S.X, y = S.y) {
  const view = new DataView(new ArrayBuffer(5 * X.length));
  X.forEach((p, i) => {
    view.setInt16(5 * i, Math.round(p[0] * COORD_SCALE), true);
    view.setInt16(5 * i + 2, Math.round(p[1] * COORD_SCALE), true);
    view.setUint8(5 * i + 4, y[i]);
  });
  return b64url(new Uint8Array(view.buffer));
}

function decodePoints(text) {
  const bytes = unb64url(text);
  const view = new DataView(bytes.buffer);
  const X = [], y = [];
  for (let i = 0; i + 5 <= bytes.length; i += 5) {
    X.push([view.getInt16(i, true) / COORD_SCALE, view.getInt16(i + 2, true) / COORD_SCALE]);
    y.push(view.getUint8(i + 4));
  }
  return { X, y };
}

let hashWritten = 0;     // when the URL was last written (throttled while running)

function writeHash() {
  if (running && performance.now() - hashWritten < 250) return;
  hashWritten = performance.now();
  const p = new URLSearchParams({
    ds: S.dataset, C: S.nClasses, n: S.nPerClass, seed: S.seed, loss: S.loss, lam: S.lam,
    lr: S.lr, opt: S.optimizer, mom: S.momentum, cls: S.addClass,
    W: S.W.map((row) => row.map(String).join(",")).join(";"), pts: encodePoints(), t: stepCount,
  });
  if (S.features.length) p.set("feat", S.features.join(","));
  if (S.noise !== null) p.set("noise", S.noise);
  if (S.testFraction) p.set("tf", S.testFraction);
  if (S.Xt.length) p.set("tpts", encodePoints(S.Xt, S.yt));
  if (S.batch) p.set("bs", S.batch);
  if (S.budget) p.set("bud", S.budget);
  if (S.confidence) p.set("conf", "1");
  window.history.replaceState(null, "", "#" + p.toString());
}

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (!p.has("W") || !p.has("pts")) return false;
  const num = (key, fallback) => (p.has(key) && Number.isFinite(+p.get(key)) ? +p.get(key) : fallback);
  S.dataset = p.get("ds") || S.dataset;
  S.nClasses = num("C", S.nClasses);
  S.nPerClass = num("n", S.nPerClass);
  S.seed = num("seed", S.seed);
  S.loss = p.get("loss") || S.loss;
  S.lam = num("lam", S.lam);
  S.lr = num("lr", S.lr);
  S.optimizer = p.get("opt") || S.optimizer;
  S.momentum = num("mom", S.momentum);
  S.addClass = num("cls", 0);
  S.features = (p.get("feat") || "").split(",").filter((f) => FEATURE_ORDER.includes(f));
  S.noise = p.has("noise") ? num("noise", null) : null;
  S.testFraction = num("tf", 0);
  const held = p.has("tpts") ? decodePoints(p.get("tpts")) : { X: [], y: [] };
  S.Xt = held.X; S.yt = held.y;
  S.batch = num("bs", 0);
  S.budget = num("bud", 0);
  S.confidence = p.get("conf") === "1";
  S.W = p.get("W").split(";").map((row) => row.split(",").map(Number));
  Object.assign(S, decodePoints(p.get("pts")));
  stepCount = num("t", 0);
  return true;
}

// ---------------------------------------------------------------- drawing

const toPx = (x) => ((x + VIEW) / (2 * VIEW)) * plot.width;
const toPy = (y) => ((VIEW - y) / (2 * VIEW)) * plot.height;
const fromPx = (px) => (px / plot.width) * 2 * VIEW - VIEW;
const fromPy = (py) => VIEW - (py / plot.height) * 2 * VIEW;
const round3 = (v) => Math.round(v * COORD_SCALE) / COORD_SCALE;
const nClasses = () => S.W[0].length;

// The mapped features of (x1, x2): [x1, x2, f(x1, x2) for each feature switched on].
function phi(x1, x2) {
  const out = [x1, x2];
  for (const f of S.features) out.push(FEATURE_MAPS[f](x1, x2));
  return out;
}

function score(c, x1, x2) {
  const v = phi(x1, x2), D = v.length;
  let s = S.W[D][c];
  for (let d = 0; d < D; d++) s += S.W[d][c] * v[d];
  return s;
}

// The decision regions, computed once per change of W into an offscreen canvas; every frame
// only copies it.
function regionCanvas() {
  const key = JSON.stringify([S.W, S.features, S.confidence]);
  const off = regionCanvas.canvas || (regionCanvas.canvas = document.createElement("canvas"));
  if (regionCanvas.key === key) return off;
  const cells = 200, C = nClasses(), D = S.W.length - 1;
  const img = new ImageData(cells, cells);
  const Wt = Float64Array.from({ length: C * (D + 1) }, (_, k) => S.W[k % (D + 1)][Math.floor(k / (D + 1))]);
  const maps = S.features.map((f) => FEATURE_MAPS[f]), v = new Float64Array(D), sc = new Float64Array(C);
  for (let r = 0; r < cells; r++) {
    const x2 = VIEW - ((r + 0.5) / cells) * 2 * VIEW;
    for (let q = 0; q < cells; q++) {
      const x1 = ((q + 0.5) / cells) * 2 * VIEW - VIEW;
      v[0] = x1; v[1] = x2;
      for (let f = 0; f < maps.length; f++) v[2 + f] = maps[f](x1, x2);
      let best = 0, bestScore = -Infinity;
      for (let c = 0, o = 0; c < C; c++, o += D + 1) {
        let s = Wt[o + D];
        for (let d = 0; d < D; d++) s += Wt[o + d] * v[d];
        sc[c] = s;
        if (s > bestScore) { bestScore = s; best = c; }
      }
      // confidence: softmax probability of the predicted class, 1/C (white) .. 1 (full colour)
      let t = 1;
      if (S.confidence) {
        let z = 0;
        for (let c = 0; c < C; c++) z += Math.exp(sc[c] - bestScore);
        t = (1 / z - 1 / C) / (1 - 1 / C);
      }
      const k = 4 * (r * cells + q), col = REGION[best % REGION.length];
      img.data[k] = 255 - t * (255 - col[0]); img.data[k + 1] = 255 - t * (255 - col[1]);
      img.data[k + 2] = 255 - t * (255 - col[2]); img.data[k + 3] = 255;
    }
  }
  off.width = cells; off.height = cells;
  off.getContext("2d").putImageData(img, 0, 0);
  regionCanvas.key = key;
  return off;
}

function drawRegions() {
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(regionCanvas(), 0, 0, plot.width, plot.height);
}

function drawGrid() {
  ctx.lineWidth = 1;
  for (let v = -VIEW; v <= VIEW; v++) {
    ctx.strokeStyle = v === 0 ? "rgba(0,0,0,0.45)" : "rgba(0,0,0,0.08)";
    ctx.beginPath(); ctx.moveTo(toPx(v), 0); ctx.lineTo(toPx(v), plot.height); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, toPy(v)); ctx.lineTo(plot.width, toPy(v)); ctx.stroke();
  }
  ctx.fillStyle = "rgba(0,0,0,0.5)";
  ctx.font = "11px system-ui, sans-serif";
  for (let v = -VIEW + 1; v < VIEW; v++) {
    if (v === 0) continue;
    ctx.fillText(String(v), toPx(v) + 2, toPy(0) + 12);
    ctx.fillText(String(v), toPx(0) + 3, toPy(v) - 3);
  }
  ctx.fillText("x\u2081", plot.width - 16, toPy(0) - 5);
  ctx.fillText("x\u2082", toPx(0) + 5, 12);
}

// The part of the line w1 x1 + w2 x2 + b = 0 inside the view (inset a little), its two ends
// ordered by x then y (the same order for w and -w), or null when it misses the view.
function clipLine(w1, w2, b) {
  const m = 0.94 * VIEW, ends = [];
  if (Math.abs(w2) > 1e-12) {
    for (const x of [-m, m]) { const y = -(b + w1 * x) / w2; if (Math.abs(y) <= m) ends.push([x, y]); }
  }
  if (Math.abs(w1) > 1e-12) {
    for (const y of [-m, m]) { const x = -(b + w2 * y) / w1; if (Math.abs(x) <= m) ends.push([x, y]); }
  }
  if (ends.length < 2) return null;
  let pair = null, far = -1;
  for (let i = 0; i < ends.length; i++) {
    for (let j = i + 1; j < ends.length; j++) {
      const d = Math.hypot(ends[i][0] - ends[j][0], ends[i][1] - ends[j][1]);
      if (d > far) { far = d; pair = [ends[i], ends[j]]; }
    }
  }
  pair.sort((p, q) => (Math.abs(p[0] - q[0]) > 1e-9 ? p[0] - q[0] : p[1] - q[1]));
  return pair;
}

const anchors = {};      // class -> the point where its handle was dropped (kept while on the line)

// The handles of class c (no feature maps: its zero-score line is straight). The base sits on
// the line inside the view at fraction (c + 1) / (C + 1) of the visible part (so classes are
// spread apart), or where the person dropped it; the tip is ARROW w away, at least
// MIN_ARROW_PX on screen.
function classGeometry(c) {
  if (S.features.length) return null;
  const w1 = S.W[0][c], w2 = S.W[1][c], b = S.W[2][c];
  const n2 = w1 * w1 + w2 * w2;
  if (n2 < 1e-12) return null;
  const n = Math.sqrt(n2), m = 0.94 * VIEW;
  const a = anchors[c];
  let base;
  if (a && Math.abs(w1 * a[0] + w2 * a[1] + b) / n < 1e-6 && Math.max(Math.abs(a[0]), Math.abs(a[1])) <= m) {
    base = a;
  } else {
    delete anchors[c];
    const seg = clipLine(w1, w2, b), f = (c + 1) / (nClasses() + 1);
    base = seg
      ? [seg[0][0] + f * (seg[1][0] - seg[0][0]), seg[0][1] + f * (seg[1][1] - seg[0][1])]
      : [clampTo((-b * w1) / n2, m), clampTo((-b * w2) / n2, m)];
  }
  const units = Math.max(ARROW * n, MIN_ARROW_PX / (plot.width / (2 * VIEW)));
  return { w1, w2, b, n, base, units, tip: [base[0] + (units * w1) / n, base[1] + (units * w2) / n] };
}

const clampTo = (v, m) => Math.max(-m, Math.min(m, v));

function drawClassLines() {
  const handles = [];
  for (let c = 0; c < nClasses(); c++) {
    const g = classGeometry(c);
    if (!g) continue;
    handles.push({ c, base: g.base, tip: g.tip });
    const color = COLORS[c % COLORS.length];
    const d = [-g.w2 / g.n, g.w1 / g.n], L = 4 * VIEW;
    ctx.strokeStyle = color; ctx.lineWidth = 2.5;
    const p0 = [(-g.b * g.w1) / (g.n * g.n), (-g.b * g.w2) / (g.n * g.n)];
    ctx.beginPath();
    ctx.moveTo(toPx(p0[0] - L * d[0]), toPy(p0[1] - L * d[1]));
    ctx.lineTo(toPx(p0[0] + L * d[0]), toPy(p0[1] + L * d[1]));
    ctx.stroke();
    const ax = toPx(g.base[0]), ay = toPy(g.base[1]), bx = toPx(g.tip[0]), by = toPy(g.tip[1]);
    const ang = Math.atan2(by - ay, bx - ax);
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(bx, by);
    ctx.lineTo(bx - 12 * Math.cos(ang - 0.4), by - 12 * Math.sin(ang - 0.4));
    ctx.lineTo(bx - 12 * Math.cos(ang + 0.4), by - 12 * Math.sin(ang + 0.4));
    ctx.closePath(); ctx.fill();
    ctx.fillStyle = "white"; ctx.lineWidth = 2.5;
    ctx.beginPath(); ctx.arc(ax, ay, 6, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
  plot.dataset.handles = JSON.stringify(handles);
}

// Held-out test points: rings in their class colour (not trained on, not draggable).
function drawTestPoints() {
  ctx.lineWidth = 2;
  S.Xt.forEach((p, i) => {
    ctx.strokeStyle = COLORS[S.yt[i] % COLORS.length];
    ctx.beginPath(); ctx.arc(toPx(p[0]), toPy(p[1]), 4.5, 0, 2 * Math.PI); ctx.stroke();
  });
}

function drawPoints() {
  const losses = evaluation && evaluation.losses.length === S.X.length ? evaluation.losses : null;
  S.X.forEach((p, i) => {
    const x = toPx(p[0]), y = toPy(p[1]);
    ctx.fillStyle = COLORS[S.y[i] % COLORS.length];
    ctx.beginPath(); ctx.arc(x, y, 5.5, 0, 2 * Math.PI); ctx.fill();
    const active = losses && losses[i] > 1e-12;
    ctx.lineWidth = active ? 2 : 1.2;
    ctx.strokeStyle = active ? "#111" : "white";
    ctx.stroke();
    if (i === hoverRow) {
      ctx.lineWidth = 2; ctx.strokeStyle = "#111";
      ctx.beginPath(); ctx.arc(x, y, 10, 0, 2 * Math.PI); ctx.stroke();
    }
  });
}

function drawPlot() {
  drawRegions();
  drawGrid();
  drawClassLines();
  drawTestPoints();
  drawPoints();
}

// The loss per step on a log scale; a dashed line marks where the objective or the data
// changed (the chart is cleared on a new dataset or a reset).
function drawChart() {
  const cv = $("chart"), g = cv.getContext("2d"), w = cv.width, h = cv.height, pad = 34;
  cv.dataset.scale = "log";
  cv.dataset.points = String(history.length);
  cv.dataset.marks = JSON.stringify(marks.map((m) => m.label));
  cv.dataset.testPoints = String(history.filter((p) => p.test !== undefined).length);
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#fafafa"; g.fillRect(0, 0, w, h);
  g.strokeStyle = "#ccc"; g.lineWidth = 1;
  g.strokeRect(pad + 0.5, 4.5, w - pad - 8, h - pad);
  g.fillStyle = "#666"; g.font = "10px system-ui, sans-serif";
  if (history.length === 0) { g.fillText("loss per step (log scale)", pad + 8, 20); return; }
  const values = [];
  for (const p of history) for (const k of ["loss", "data", "test"]) if (p[k] > 0) values.push(p[k]);
  let lo = Math.log10(Math.min(...values, 1)), hi = Math.log10(Math.max(...values, 1e-3));
  lo = Math.floor(lo); hi = Math.max(Math.ceil(hi), lo + 1);
  const X = (i) => pad + ((w - pad - 8) * i) / Math.max(history.length - 1, 1);
  const Y = (v) => 4 + (h - pad) * (1 - (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo));
  g.fillText(`1e${hi}`, 2, 12);
  g.fillText(`1e${lo}`, 2, h - pad + 4);
  g.fillText(`step ${stepCount}`, w - 60, h - 8);
  g.fillText("total J", pad, h - 8);
  g.fillStyle = "#999"; g.fillText("data", pad + 40, h - 8);
  g.fillStyle = "#c05000"; g.fillText("test", pad + 70, h - 8);
  g.setLineDash([3, 3]); g.strokeStyle = "#7a5cc0"; g.fillStyle = "#7a5cc0";
  for (const m of marks) {
    g.beginPath(); g.moveTo(X(m.at), 5); g.lineTo(X(m.at), h - pad + 4); g.stroke();
    g.fillText(m.label, Math.min(X(m.at) + 2, w - 70), 14);
  }
  g.setLineDash([]);
  // at most ~2 points per pixel column: long runs stay cheap to draw
  const stride = Math.max(1, Math.floor(history.length / (2 * (w - pad))));
  for (const [key, color, width] of [["data", "#999", 1.2], ["test", "#c05000", 1.5], ["loss", "#222", 2]]) {
    g.strokeStyle = color; g.lineWidth = width;
    g.beginPath();
    let open = false;
    for (let i = 0; i < history.length; i += stride) {
      const v = history[i][key];
      if (!(v > 0)) continue;
      if (open) g.lineTo(X(i), Y(v)); else { g.moveTo(X(i), Y(v)); open = true; }
    }
    g.stroke();
  }
}

// Mark the chart where the objective or the data changed (once per step count).
function mark(label) {
  const at = Math.max(history.length - 1, 0);
  const last = marks[marks.length - 1];
  if (last && last.at === at) last.label = label; else marks.push({ at, label });
}

// ---------------------------------------------------------------- tables and numbers

// Fixed decimals, and never "-0.000" for a value that rounds to zero.
const fmt = (v, d = 3) => v.toFixed(d).replace(/^-(0\.?0*)$/, "$1");
// Any value in a short box: fixed decimals, scientific notation when large.
const fmtShort = (v, d = 3) => (Math.abs(v) >= 1e4 ? v.toExponential(2) : fmt(v, d));

function setNumber(id, v, digits = 4) {
  const el = $(id);
  el.textContent = v === null ? "\u2013" : fmtShort(v, digits);
  el.dataset.value = v === null ? "" : String(v);
}

function weightLabels() {
  const names = { "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2", "x1*x2": "x\u2081x\u2082", "sin x1": "sin x\u2081", "sin x2": "sin x\u2082" };
  return ["w<sub>1</sub>", "w<sub>2</sub>", ...S.features.map((f) => `w[${names[f]}]`), "b"];
}

function renderWeights() {
  const table = $("weights"), tbody = table.tBodies[0], C = nClasses(), R = S.W.length;
  const head = `<tr><th>class</th>${weightLabels().map((l) => `<th>${l}</th>`).join("")}</tr>`;
  if (table.tHead.innerHTML !== head || tbody.rows.length !== C) {
    table.tHead.innerHTML = head;
    tbody.innerHTML = "";
    for (let c = 0; c < C; c++) {
      const tr = tbody.insertRow();
      tr.insertCell().innerHTML = `<span class="chip" style="background:${COLORS[c % COLORS.length]}"></span> ${c}`;
      for (let r = 0; r < R; r++) {
        const td = tr.insertCell();
        td.innerHTML = `<input type="text" inputmode="decimal" data-row="${r}" data-col="${c}"` +
          ` aria-label="W[${r}][${c}]"><span class="grad" data-row="${r}" data-col="${c}"></span>`;
      }
    }
  }
  tbody.querySelectorAll("input").forEach((inp) => {
    if (document.activeElement === inp) return;
    inp.value = fmtShort(S.W[+inp.dataset.row][+inp.dataset.col], 3);
  });
  tbody.querySelectorAll(".grad").forEach((el) => {
    const fits = evaluation && evaluation.grad.length === S.W.length;
    const g = fits ? evaluation.grad[+el.dataset.row][+el.dataset.col] : null;
    const text = g === null ? "" : fmtShort(g, 3);
    el.textContent = text && !text.startsWith("-") ? "+" + text : text;
    el.dataset.value = g === null ? "" : String(g);
    el.title = "\u2202J/\u2202W: the step moves this parameter by \u2212\u03b1 times it (SGD)";
  });
}

const ROW_H = 24;        // the points table's row height (CSS), for its virtual scrolling
const OVERSCAN = 10;     // rows built beyond the visible ones, above and below

// Only the rows in (or near) the scrolled view are built; spacers stand for the others.
function renderPoints() {
  const C = nClasses(), table = $("points"), wrap = table.parentElement, N = S.X.length;
  const head = `<tr><th>#</th><th>x\u2081</th><th>x\u2082</th><th>y</th>` +
    Array.from({ length: C }, (_, c) => `<th style="color:${COLORS[c % COLORS.length]}">s<sub>${c}</sub></th>`).join("") +
    `<th>L<sub>i</sub></th></tr>`;
  if (table.tHead.innerHTML !== head) table.tHead.innerHTML = head;
  const ev = evaluation && evaluation.losses.length === N ? evaluation : null;
  let maxLoss = 1e-12;
  if (ev) for (const L of ev.losses) if (L > maxLoss) maxLoss = L;
  const first = Math.max(0, Math.floor(wrap.scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(N, first + Math.ceil((wrap.clientHeight || 470) / ROW_H) + 2 * OVERSCAN);
  const rows = [];
  if (first > 0) rows.push(`<tr class="spacer" style="height:${first * ROW_H}px"></tr>`);
  for (let i = first; i < last; i++) {
    const p = S.X[i];
    let cells = "";
    for (let c = 0; c < C; c++) {
      const s = ev ? fmtShort(ev.scores[i][c], 2) : "";
      cells += c === S.y[i] ? `<td><span class="true">${s}</span></td>` : `<td>${s}</td>`;
    }
    const L = ev ? ev.losses[i] : null;
    const shade = L ? `background:rgba(214,39,40,${(0.35 * L) / maxLoss})` : "";
    rows.push(`<tr data-index="${i}"><td>${i}</td><td>${fmt(p[0], 2)}</td><td>${fmt(p[1], 2)}</td>` +
      `<td class="label"><span class="chip" style="background:${COLORS[S.y[i] % COLORS.length]}"></span>${S.y[i]}</td>` +
      `${cells}<td class="loss" style="${shade}" data-value="${L === null ? "" : L}">${L === null ? "" : fmtShort(L, 3)}</td></tr>`);
  }
  if (last < N) rows.push(`<tr class="spacer" style="height:${(N - last) * ROW_H}px"></tr>`);
  table.tBodies[0].innerHTML = rows.join("");
}

function renderControls() {
  $("dataset").value = S.dataset;
  $("n-classes").value = S.nClasses;
  $("n-per-class").value = S.nPerClass;
  $("seed").value = S.seed;
  $("loss").value = S.loss;
  $("lam").value = S.lam;
  $("lr").value = S.lr;
  $("optimizer").value = S.optimizer;
  $("momentum").value = S.momentum;
  $("momentum-label").style.display = S.optimizer === "momentum" ? "" : "none";
  document.querySelectorAll("#features input[type=checkbox]").forEach((box) => {
    box.checked = S.features.includes(box.value);
  });
  $("formula").innerHTML = FORMULAS[S.loss] || "";
  $("noise-value").textContent = S.noise === null ? "default" : S.noise.toFixed(2);
  if (S.noise !== null) $("noise").value = S.noise;
  $("test-fraction").value = String(S.testFraction);
  $("batch").value = S.batch;
  $("budget").value = S.budget;
  $("confidence").checked = S.confidence;
  const search = SEARCHES.includes(S.optimizer);
  $("lr-label").textContent = S.optimizer === "random_search" ? "Scale of the draws" :
    search ? "Step size \u03c3" : "Learning rate \u03b1";
  $("batch").disabled = search;
}

function renderPicker() {
  const picker = $("class-picker");
  if (picker.children.length !== nClasses()) {
    picker.innerHTML = "";
    for (let c = 0; c < nClasses(); c++) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "class-btn"; b.dataset.cls = c;
      b.style.background = COLORS[c % COLORS.length];
      b.textContent = c;
      b.setAttribute("aria-label", `add class ${c}`);
      b.onclick = () => { S.addClass = c; renderPicker(); writeHash(); };
      picker.appendChild(b);
    }
  }
  if (S.addClass >= nClasses()) S.addClass = 0;
  [...picker.children].forEach((b, c) => b.classList.toggle("selected", c === S.addClass));
}

let tableBuilt = 0;      // when the points table was last rebuilt (throttled while running)

function render() {
  renderPicker();
  drawPlot();
  drawChart();
  renderWeights();
  if (!running || performance.now() - tableBuilt > 100) {
    renderPoints();
    tableBuilt = performance.now();
  }
  const ev = evaluation;
  setNumber("loss-total", ev ? ev.loss : null);
  setNumber("loss-data", ev ? ev.data_loss : null);
  setNumber("loss-reg", ev ? ev.reg_loss : null);
  $("accuracy").textContent = ev ? `${(100 * ev.accuracy).toFixed(1)}%` : "\u2013";
  $("accuracy").dataset.value = ev ? String(ev.accuracy) : "";
  const held = ev && ev.test_loss !== undefined;
  setNumber("test-loss", held ? ev.test_loss : null);
  $("test-accuracy").textContent = held ? `${(100 * ev.test_accuracy).toFixed(1)}%` : "\u2013";
  $("test-accuracy").dataset.value = held ? String(ev.test_accuracy) : "";
  $("evaluations").textContent = evaluations;
  $("step-count").textContent = stepCount;
}

// ---------------------------------------------------------------- interaction on the plot

let drag = null;

function eventXY(e) {
  const r = plot.getBoundingClientRect();
  const px = ((e.clientX - r.left) / r.width) * plot.width;
  const py = ((e.clientY - r.top) / r.height) * plot.height;
  return { px, py, x: fromPx(px), y: fromPy(py) };
}

// The handle nearest the mouse (within HANDLE_R pixels), else the nearest point (8 pixels).
function hitTest(px, py) {
  const dist = (x, y) => Math.hypot(toPx(x) - px, toPy(y) - py);
  let best = null, bestD = HANDLE_R;
  for (let c = 0; c < nClasses(); c++) {
    const g = classGeometry(c);
    if (!g) continue;
    for (const kind of ["tip", "base"]) {
      const d = dist(...g[kind]);
      if (d <= bestD) { bestD = d; best = { kind, c, g }; }
    }
  }
  if (best) return best;
  bestD = 8;
  for (let i = S.X.length - 1; i >= 0; i--) {
    const d = dist(S.X[i][0], S.X[i][1]);
    if (d <= bestD) { bestD = d; best = { kind: "point", i }; }
  }
  return best;
}

const clampView = (v) => Math.max(-VIEW, Math.min(VIEW, v));

plot.addEventListener("pointerdown", (e) => {
  const at = eventXY(e);
  const hit = hitTest(at.px, at.py);
  if (hit && hit.kind === "point" && e.shiftKey) {
    S.X.splice(hit.i, 1); S.y.splice(hit.i, 1);
    mark("data edited");
    evaluateNow();
    return;
  }
  drag = hit || { kind: "add" };
  drag.start = at;
  drag.moved = false;
  plot.setPointerCapture(e.pointerId);
  e.preventDefault();
});

plot.addEventListener("pointermove", (e) => {
  const at = eventXY(e);
  if (!drag) {
    const hit = hitTest(at.px, at.py);
    plot.style.cursor = hit ? (hit.kind === "point" ? "grab" : "move") : "crosshair";
    return;
  }
  drag.moved = drag.moved || Math.hypot(at.px - drag.start.px, at.py - drag.start.py) > 2;
  if (!drag.moved) return;
  const x = clampView(at.x), y = clampView(at.y), c = drag.c;
  if (drag.kind === "point") {
    S.X[drag.i] = [round3(x), round3(y)];
  } else if (drag.kind === "tip") {
    // w turns to point at the mouse and scales with the arrow's length; the line keeps
    // passing through the base, so b = -w . base
    const g = drag.g, dx = x - g.base[0], dy = y - g.base[1], r = Math.hypot(dx, dy);
    if (r < 1e-3) return;
    const n = (g.n * r) / g.units;
    S.W[0][c] = (n * dx) / r; S.W[1][c] = (n * dy) / r;
    S.W[2][c] = -(S.W[0][c] * g.base[0] + S.W[1][c] * g.base[1]);
    anchors[c] = g.base;
  } else if (drag.kind === "base") {
    // same w, the line through the mouse: b = -w . x
    S.W[2][c] = -(S.W[0][c] * x + S.W[1][c] * y);
    anchors[c] = [x, y];
  } else {
    return;
  }
  drawPlot();
  evaluateNow();
});

plot.addEventListener("pointerup", (e) => {
  if (!drag) return;
  const d = drag;
  drag = null;
  if (d.kind === "add" && !d.moved) {
    if (S.X.length >= limits.max_points) { showError(new Error(`at most ${limits.max_points} points`)); return; }
    const at = eventXY(e);
    if (Math.abs(at.x) > VIEW || Math.abs(at.y) > VIEW) return;
    S.X.push([round3(at.x), round3(at.y)]);
    S.y.push(S.addClass);
    mark("data edited");
  }
  if (d.kind === "point" && d.moved) mark("data edited");
  evaluateNow();
});

plot.addEventListener("pointercancel", () => { drag = null; });

// ---------------------------------------------------------------- controls

// A number box: a value outside [min, max] (or not a number) is refused in the page, with
// the box marked and a message, and the model keeps its value.
function checkedNumber(id, label, { min, max, integer = false }) {
  const el = $(id), text = el.value.trim(), v = Number(text);
  let why = null;
  if (text === "" || !Number.isFinite(v)) why = "a number";
  else if (integer && !Number.isInteger(v)) why = "an integer";
  else if (v < min || v > max) why = `a value in [${min}, ${max}]`;
  el.classList.toggle("invalid", why !== null);
  el.setAttribute("aria-invalid", why === null ? "false" : "true");
  if (why === null) return v;
  showError(new Error(`${label}: expected ${why}, got ${JSON.stringify(text)}`));
  renderControls();
  return null;
}

function numberInput(id, key, label, bounds) {
  $(id).addEventListener("change", () => {
    const v = checkedNumber(id, label, bounds);
    if (v === null) return;
    const objective = key === "lam" && v !== S[key];
    S[key] = v;
    if (key === "momentum") optState = null;
    if (objective) mark(`\u03bb=${v}`);
    evaluateNow();
  });
}

// A loss's plain-text formula (x_i, s_{y_i}, e^{s_j}) as HTML with <sub> and <sup>.
function formulaHtml(text) {
  const escape = (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;" })[c] || c;
  let at = 0;
  function group(close) {
    let html = "";
    while (at < text.length && text[at] !== close) {
      const c = text[at++];
      if ((c === "_" || c === "^") && at < text.length) {
        const tag = c === "_" ? "sub" : "sup";
        let inner;
        if (text[at] === "{") { at++; inner = group("}"); at++; } else inner = escape(text[at++]);
        html += `<${tag}>${inner}</${tag}>`;
      } else html += escape(c);
    }
    return html;
  }
  return group(null);
}

function fillSelect(id, options) {
  $(id).innerHTML = Object.entries(options)
    .map(([value, label]) => `<option value="${value}">${label}</option>`).join("");
}

// Switch a feature map on or off: W gains a zero row for it (or loses its row), the other rows
// keep their values; the regions are redrawn in the input plane.
function toggleFeature(name, on) {
  const old = S.features, next = FEATURE_ORDER.filter((f) => (f === name ? on : old.includes(f)));
  const rowOf = (features, f) => ["x1", "x2", ...features].indexOf(f);
  const C = nClasses(), W = [];
  for (const f of ["x1", "x2", ...next]) {
    const r = rowOf(old, f);
    W.push(r >= 0 ? S.W[r].slice() : new Array(C).fill(0));
  }
  W.push(S.W[S.W.length - 1].slice());
  S.W = W; S.features = next; optState = null;
  mark(next.length ? next.join(", ") : "no features");
  render();
  evaluateNow();
}

function wireControls() {
  const limitsOf = (key) => ({ min: 0, max: limits[key] });
  numberInput("lam", "lam", "\u03bb", limitsOf("max_lam"));
  numberInput("lr", "lr", "learning rate", { min: 1e-9, max: limits.max_learning_rate });
  numberInput("momentum", "momentum", "momentum", { min: 0, max: 0.99 });
  const dataBoxes = [
    ["n-classes", "nClasses", "Classes", { min: 2, max: limits.max_classes, integer: true }],
    ["n-per-class", "nPerClass", "Points per class", { min: 1, max: limits.max_points / 2, integer: true }],
    ["seed", "seed", "Seed", { min: 0, max: limits.max_seed, integer: true }],
  ];
  for (const [id, key, label, bounds] of dataBoxes) {
    $(id).addEventListener("change", () => {
      let v = checkedNumber(id, label, bounds);
      if (v === null) return;
      if (key === "nClasses" && S.dataset === "xor" && v !== 2) {
        $(id).classList.add("invalid");
        showError(new Error(`Classes: expected 2 for the xor dataset, got ${v}`));
        v = 2;
      }
      if (key === "nPerClass" && v * S.nClasses > limits.max_points) {
        showError(new Error(`Points per class: expected at most ${limits.max_points} points in all, got ${v * S.nClasses}`));
        renderControls();
        return;
      }
      S[key] = v;
      renderControls();
      setRunning(false);
      newData().catch(showError);
    });
  }
  document.querySelectorAll("#features input[type=checkbox]").forEach((box) => {
    box.addEventListener("change", () => toggleFeature(box.value, box.checked));
  });
  $("noise").addEventListener("change", () => {
    S.noise = +$("noise").value; renderControls(); setRunning(false); newData().catch(showError);
  });
  $("test-fraction").addEventListener("change", () => {
    S.testFraction = +$("test-fraction").value; setRunning(false); newData().catch(showError);
  });
  for (const [id, key, label] of [["batch", "batch", "Batch size"], ["budget", "budget", "Budget"]]) {
    $(id).addEventListener("change", () => {
      const v = checkedNumber(id, label, { min: 0, max: key === "batch" ? limits.max_points : 1e9, integer: true });
      if (v !== null) { S[key] = v; showError(null); writeHash(); }
    });
  }
  $("csv").addEventListener("change", () => {
    const file = $("csv").files[0];
    if (file) loadCsv(file).catch(showError).finally(() => { $("csv").value = ""; });
  });
  $("export-script").addEventListener("click", () => exportScript().catch(showError));
  $("export-model").addEventListener("click", () => exportModel().catch(showError));
  $("confidence").addEventListener("change", () => {
    S.confidence = $("confidence").checked; drawPlot(); writeHash();
  });
  $("loss").addEventListener("change", () => {
    S.loss = $("loss").value; mark(S.loss); renderControls(); evaluateNow();
  });
  $("optimizer").addEventListener("change", () => {
    S.optimizer = $("optimizer").value; optState = null; renderControls(); writeHash();
  });
  $("dataset").addEventListener("change", () => {
    S.dataset = $("dataset").value;
    if (S.dataset === "xor") S.nClasses = 2;
    renderControls();
    setRunning(false);
    newData().catch(showError);
  });
  $("new-data").addEventListener("click", () => {
    S.seed += 1;   // a fresh draw; the seed in the URL reproduces it
    renderControls();
    setRunning(false);
    newData().catch(showError);
  });
  $("step").addEventListener("click", async () => {
    while (inflight) await new Promise((resolve) => setTimeout(resolve, 5));
    await exclusive(() => safeStep(1));
  });
  $("run").addEventListener("click", () => setRunning(!running));
  $("reset").addEventListener("click", () => { setRunning(false); resetWeights().catch(showError); });
  $("weights").addEventListener("change", (e) => {
    const inp = e.target;
    if (!inp.dataset || inp.dataset.row === undefined) return;
    const text = inp.value.trim(), v = Number(text);
    if (text === "" || !Number.isFinite(v) || Math.abs(v) > 1e6) {
      showError(new Error(`W[${inp.dataset.row}][${inp.dataset.col}]: expected a number with |w| <= 1e6, got ${JSON.stringify(text)}`));
      renderWeights();
      return;
    }
    S.W[+inp.dataset.row][+inp.dataset.col] = v;
    delete anchors[+inp.dataset.col];
    drawPlot();
    evaluateNow();
  });
  $("points").addEventListener("mouseover", (e) => {
    const tr = e.target.closest("tr[data-index]");
    hoverRow = tr ? +tr.dataset.index : -1;
    drawPlot();
  });
  $("points").addEventListener("mouseleave", () => { hoverRow = -1; drawPlot(); });
  let scrollQueued = false;
  $("points").parentElement.addEventListener("scroll", () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => { scrollQueued = false; renderPoints(); });
  });
}

async function init() {
  const res = await fetch("/api/options");
  const options = await res.json();
  limits = options.limits;
  fillSelect("dataset", Object.fromEntries(options.datasets.map((d) => [d, d])));
  const lossNames = Object.entries(options.losses);
  fillSelect("loss", Object.fromEntries(lossNames.map(([name, loss]) => [name, loss.label])));
  FORMULAS = Object.fromEntries(lossNames.map(([name, loss]) => [name, formulaHtml(loss.formula)]));
  fillSelect("optimizer", options.optimizers);
  $("features").innerHTML = options.features
    .map((f) => `<label class="toggle"><input type="checkbox" value="${f}"> ${f}</label>`).join("");
  wireControls();
  if (readHash()) {
    renderControls();
    await evaluateNow();
    if (evaluation) history.push(historyPoint());
    render();
  } else {
    renderControls();
    await newData();
  }
  renderControls();
  document.body.dataset.ready = "1";
}

init().catch(showError);
