// lingrad playground: the page draws and edits; the server (lingrad) computes every number.
// The whole view (data, W, settings, seed) lives in the URL hash, so a link reproduces it.
"use strict";

const COLORS = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b"];
const REGION = [[248, 196, 196], [196, 234, 196], [190, 214, 240], [252, 220, 180], [220, 204, 236], [222, 204, 196]];
const VIEW = 4;          // the plot shows [-VIEW, VIEW]^2
const ARROW = 1.5;       // an arrow is drawn as ARROW * w_c (longer, easier to grab)
const COORD_SCALE = 1000; // points are kept to 3 decimals (exact in the URL)
let FORMULAS = {};       // loss name -> its formula as HTML, from /api/options

const S = {
  dataset: "blobs", nClasses: 3, nPerClass: 10, seed: 0,
  X: [], y: [], W: [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
  loss: "hinge", lam: 0.1, lr: 0.1, optimizer: "sgd", momentum: 0.9, addClass: 0,
};
let optState = null;     // the optimiser state, sent back with each step (the server keeps none)
let stepCount = 0;
let history = [];        // [{loss, data}] after each evaluation that follows a step
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

async function api(path, body) {
  const res = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function problem() {
  return { X: S.X, y: S.y, W: S.W, loss: S.loss, lam: S.lam };
}

function optimizerSpec() {
  return { name: S.optimizer, learning_rate: S.lr, momentum: S.momentum, state: optState };
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

async function step() {
  if (!S.X.length) return;
  const res = await api("/api/step", { ...problem(), optimizer: optimizerSpec(), steps: 1 });
  S.W = res.W;
  optState = res.state;
  stepCount += 1;
  evaluation = res.evaluation;
  history.push({ loss: evaluation.loss, data: evaluation.data_loss });
  showError(null);
  render();
  writeHash();
}

async function safeStep() {
  try { await step(); } catch (err) { showError(err); setRunning(false); }
}

function setRunning(on) {
  running = on;
  $("run").textContent = on ? "Pause" : "Run";
  $("run").classList.toggle("running", on);
  if (on) loop();
}

async function loop() {
  while (running) {
    await exclusive(safeStep);
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

async function newData() {
  const data = await api("/api/dataset", {
    name: S.dataset, n_per_class: S.nPerClass, n_classes: S.nClasses, seed: S.seed,
  });
  S.X = data.X; S.y = data.y;
  await resetWeights();
}

async function resetWeights() {
  const w = await api("/api/weights", { n_classes: S.nClasses, seed: S.seed });
  S.W = w.W;
  optState = null; stepCount = 0; history = [];
  await evaluateNow();
  if (evaluation) history.push({ loss: evaluation.loss, data: evaluation.data_loss });
  render();
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

function encodePoints() {
  const view = new DataView(new ArrayBuffer(5 * S.X.length));
  S.X.forEach((p, i) => {
    view.setInt16(5 * i, Math.round(p[0] * COORD_SCALE), true);
    view.setInt16(5 * i + 2, Math.round(p[1] * COORD_SCALE), true);
    view.setUint8(5 * i + 4, S.y[i]);
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

function writeHash() {
  const p = new URLSearchParams({
    ds: S.dataset, C: S.nClasses, n: S.nPerClass, seed: S.seed, loss: S.loss, lam: S.lam,
    lr: S.lr, opt: S.optimizer, mom: S.momentum, cls: S.addClass,
    W: S.W.map((row) => row.map(String).join(",")).join(";"), pts: encodePoints(), t: stepCount,
  });
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

function score(c, x1, x2) { return S.W[0][c] * x1 + S.W[1][c] * x2 + S.W[2][c]; }

function drawRegions() {
  const cells = 260, C = nClasses();
  const img = new ImageData(cells, cells);
  for (let r = 0; r < cells; r++) {
    const x2 = VIEW - ((r + 0.5) / cells) * 2 * VIEW;
    for (let q = 0; q < cells; q++) {
      const x1 = ((q + 0.5) / cells) * 2 * VIEW - VIEW;
      let best = 0, bestScore = -Infinity;
      for (let c = 0; c < C; c++) {
        const s = score(c, x1, x2);
        if (s > bestScore) { bestScore = s; best = c; }
      }
      const k = 4 * (r * cells + q), col = REGION[best % REGION.length];
      img.data[k] = col[0]; img.data[k + 1] = col[1]; img.data[k + 2] = col[2]; img.data[k + 3] = 255;
    }
  }
  const off = drawRegions.canvas || (drawRegions.canvas = document.createElement("canvas"));
  off.width = cells; off.height = cells;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, plot.width, plot.height);
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

// The geometry of class c: base point p0 (closest point of the line to the origin), w, tip.
function classGeometry(c) {
  const w1 = S.W[0][c], w2 = S.W[1][c], b = S.W[2][c];
  const n2 = w1 * w1 + w2 * w2;
  if (n2 < 1e-12) return null;
  const p0 = [(-b * w1) / n2, (-b * w2) / n2];
  return { w1, w2, b, n: Math.sqrt(n2), p0, tip: [p0[0] + ARROW * w1, p0[1] + ARROW * w2] };
}

function drawClassLines() {
  for (let c = 0; c < nClasses(); c++) {
    const g = classGeometry(c);
    if (!g) continue;
    const color = COLORS[c % COLORS.length];
    const d = [-g.w2 / g.n, g.w1 / g.n], L = 4 * VIEW;
    ctx.strokeStyle = color; ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.moveTo(toPx(g.p0[0] - L * d[0]), toPy(g.p0[1] - L * d[1]));
    ctx.lineTo(toPx(g.p0[0] + L * d[0]), toPy(g.p0[1] + L * d[1]));
    ctx.stroke();
    // arrow p0 -> p0 + ARROW * w
    const ax = toPx(g.p0[0]), ay = toPy(g.p0[1]), bx = toPx(g.tip[0]), by = toPy(g.tip[1]);
    const ang = Math.atan2(by - ay, bx - ax);
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(bx, by);
    ctx.lineTo(bx - 12 * Math.cos(ang - 0.4), by - 12 * Math.sin(ang - 0.4));
    ctx.lineTo(bx - 12 * Math.cos(ang + 0.4), by - 12 * Math.sin(ang + 0.4));
    ctx.closePath(); ctx.fill();
    ctx.fillStyle = "white"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(ax, ay, 5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
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
  drawPoints();
}

function drawChart() {
  const cv = $("chart"), g = cv.getContext("2d"), w = cv.width, h = cv.height, pad = 26;
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#fafafa"; g.fillRect(0, 0, w, h);
  g.strokeStyle = "#ccc"; g.lineWidth = 1;
  g.strokeRect(pad + 0.5, 4.5, w - pad - 8, h - pad);
  g.fillStyle = "#666"; g.font = "10px system-ui, sans-serif";
  if (history.length === 0) { g.fillText("loss per step", pad + 8, 20); return; }
  const max = Math.max(...history.map((p) => p.loss)) || 1;
  const X = (i) => pad + ((w - pad - 8) * i) / Math.max(history.length - 1, 1);
  const Y = (v) => 4 + (h - pad) * (1 - v / max);
  g.fillText(max.toPrecision(3), pad + 4, 14);
  g.fillText("0", pad - 10, h - pad + 6);
  g.fillText(`step ${stepCount}`, w - 60, h - 8);
  g.fillText("total J", pad + 8, h - 8);
  g.fillStyle = "#999";
  g.fillText("data loss", pad + 56, h - 8);
  for (const [key, color, width] of [["data", "#999", 1.2], ["loss", "#222", 2]]) {
    g.strokeStyle = color; g.lineWidth = width;
    g.beginPath();
    history.forEach((p, i) => (i ? g.lineTo(X(i), Y(p[key])) : g.moveTo(X(i), Y(p[key]))));
    g.stroke();
  }
}

// ---------------------------------------------------------------- tables and numbers

// Fixed decimals, and never "-0.000" for a value that rounds to zero.
const fmt = (v, d = 3) => v.toFixed(d).replace(/^-(0\.?0*)$/, "$1");

function setNumber(id, v, digits = 4) {
  const el = $(id);
  el.textContent = v === null ? "\u2013" : fmt(v, digits);
  el.dataset.value = v === null ? "" : String(v);
}

function renderWeights() {
  const tbody = $("weights").tBodies[0], C = nClasses();
  if (tbody.rows.length !== C) {
    tbody.innerHTML = "";
    for (let c = 0; c < C; c++) {
      const tr = tbody.insertRow();
      tr.insertCell().innerHTML = `<span class="chip" style="background:${COLORS[c % COLORS.length]}"></span> ${c}`;
      for (let r = 0; r < 3; r++) {
        const td = tr.insertCell();
        td.innerHTML = `<input type="number" step="0.1" data-row="${r}" data-col="${c}"` +
          ` aria-label="W[${r}][${c}]"><span class="grad" data-row="${r}" data-col="${c}"></span>`;
      }
    }
  }
  tbody.querySelectorAll("input").forEach((inp) => {
    if (document.activeElement === inp) return;
    inp.value = fmt(S.W[+inp.dataset.row][+inp.dataset.col], 3);
  });
  tbody.querySelectorAll(".grad").forEach((el) => {
    const g = evaluation ? evaluation.grad[+el.dataset.row][+el.dataset.col] : null;
    const text = g === null ? "" : fmt(g, 3);
    el.textContent = text && !text.startsWith("-") ? "+" + text : text;
    el.dataset.value = g === null ? "" : String(g);
    el.title = "\u2202J/\u2202W: the step moves this parameter by \u2212\u03b1 times it (SGD)";
  });
}

function renderPoints() {
  const C = nClasses(), table = $("points");
  const head = `<tr><th>#</th><th>x\u2081</th><th>x\u2082</th><th>y</th>` +
    Array.from({ length: C }, (_, c) => `<th style="color:${COLORS[c % COLORS.length]}">s<sub>${c}</sub></th>`).join("") +
    `<th>L<sub>i</sub></th></tr>`;
  if (table.tHead.innerHTML !== head) table.tHead.innerHTML = head;
  const ev = evaluation && evaluation.losses.length === S.X.length ? evaluation : null;
  const maxLoss = ev ? Math.max(...ev.losses, 1e-12) : 1;
  const rows = S.X.map((p, i) => {
    const cells = Array.from({ length: C }, (_, c) => {
      const s = ev ? fmt(ev.scores[i][c], 2) : "";
      return c === S.y[i] ? `<td><span class="true">${s}</span></td>` : `<td>${s}</td>`;
    }).join("");
    const L = ev ? ev.losses[i] : null;
    const shade = L ? `background:rgba(214,39,40,${(0.35 * L) / maxLoss})` : "";
    return `<tr data-index="${i}"><td>${i}</td><td>${fmt(p[0], 2)}</td><td>${fmt(p[1], 2)}</td>` +
      `<td><span class="chip" style="background:${COLORS[S.y[i] % COLORS.length]}"></span>${S.y[i]}</td>` +
      `${cells}<td class="loss" style="${shade}" data-value="${L === null ? "" : L}">${L === null ? "" : fmt(L, 3)}</td></tr>`;
  });
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
  $("formula").innerHTML = FORMULAS[S.loss] || "";
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

function render() {
  renderPicker();
  drawPlot();
  drawChart();
  renderWeights();
  renderPoints();
  const ev = evaluation;
  setNumber("loss-total", ev ? ev.loss : null);
  setNumber("loss-data", ev ? ev.data_loss : null);
  setNumber("loss-reg", ev ? ev.reg_loss : null);
  $("accuracy").textContent = ev ? `${(100 * ev.accuracy).toFixed(1)}%` : "\u2013";
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

function hitTest(px, py) {
  const near = (x, y, r) => (toPx(x) - px) ** 2 + (toPy(y) - py) ** 2 <= r * r;
  for (let c = 0; c < nClasses(); c++) {
    const g = classGeometry(c);
    if (g && near(g.tip[0], g.tip[1], 10)) return { kind: "tip", c, g };
  }
  for (let c = 0; c < nClasses(); c++) {
    const g = classGeometry(c);
    if (g && near(g.p0[0], g.p0[1], 9)) return { kind: "base", c, g };
  }
  for (let i = S.X.length - 1; i >= 0; i--) {
    if (near(S.X[i][0], S.X[i][1], 8)) return { kind: "point", i };
  }
  return null;
}

const clampView = (v) => Math.max(-VIEW, Math.min(VIEW, v));

plot.addEventListener("pointerdown", (e) => {
  const at = eventXY(e);
  const hit = hitTest(at.px, at.py);
  if (hit && hit.kind === "point" && e.shiftKey) {
    S.X.splice(hit.i, 1); S.y.splice(hit.i, 1);
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
  const x = clampView(at.x), y = clampView(at.y);
  if (drag.kind === "point") {
    S.X[drag.i] = [round3(x), round3(y)];
  } else if (drag.kind === "tip") {
    // new w = (tip - p0) / ARROW; the line keeps passing through p0, so b = -w . p0
    const p0 = drag.g.p0, w1 = (x - p0[0]) / ARROW, w2 = (y - p0[1]) / ARROW;
    if (w1 * w1 + w2 * w2 < 1e-6) return;
    S.W[0][drag.c] = w1; S.W[1][drag.c] = w2; S.W[2][drag.c] = -(w1 * p0[0] + w2 * p0[1]);
  } else if (drag.kind === "base") {
    // same w, the line through the mouse: b = -w . x
    S.W[2][drag.c] = -(S.W[0][drag.c] * x + S.W[1][drag.c] * y);
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
  }
  evaluateNow();
});

plot.addEventListener("pointercancel", () => { drag = null; });

// ---------------------------------------------------------------- controls

function numberInput(id, key, { integer = false } = {}) {
  $(id).addEventListener("change", () => {
    const v = integer ? parseInt($(id).value, 10) : parseFloat($(id).value);
    if (!Number.isFinite(v)) { renderControls(); return; }
    S[key] = v;
    if (key === "momentum") optState = null;
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

function wireControls() {
  numberInput("lam", "lam");
  numberInput("lr", "lr");
  numberInput("momentum", "momentum");
  for (const [id, key] of [["n-classes", "nClasses"], ["n-per-class", "nPerClass"], ["seed", "seed"]]) {
    $(id).addEventListener("change", () => {
      const v = parseInt($(id).value, 10);
      if (!Number.isFinite(v)) { renderControls(); return; }
      S[key] = v;
      if (S.dataset === "xor") S.nClasses = 2;
      renderControls();
      setRunning(false);
      newData().catch(showError);
    });
  }
  $("loss").addEventListener("change", () => { S.loss = $("loss").value; renderControls(); evaluateNow(); });
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
    await exclusive(safeStep);
  });
  $("run").addEventListener("click", () => setRunning(!running));
  $("reset").addEventListener("click", () => { setRunning(false); resetWeights().catch(showError); });
  $("weights").addEventListener("change", (e) => {
    const inp = e.target;
    if (!inp.dataset || inp.dataset.row === undefined) return;
    const v = parseFloat(inp.value);
    if (!Number.isFinite(v)) { renderWeights(); return; }
    S.W[+inp.dataset.row][+inp.dataset.col] = v;
    drawPlot();
    evaluateNow();
  });
  $("points").addEventListener("mouseover", (e) => {
    const tr = e.target.closest("tr[data-index]");
    hoverRow = tr ? +tr.dataset.index : -1;
    drawPlot();
  });
  $("points").addEventListener("mouseleave", () => { hoverRow = -1; drawPlot(); });
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
  wireControls();
  if (readHash()) {
    renderControls();
    await evaluateNow();
    if (evaluation) history.push({ loss: evaluation.loss, data: evaluation.data_loss });
    render();
  } else {
    renderControls();
    await newData();
  }
  renderControls();
  document.body.dataset.ready = "1";
}

init().catch(showError);
