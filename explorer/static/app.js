// The timbre explorer's page: a hand-written canvas map of the run's latent space and the calls to its JSON API
// (see explorer/server.py). No external libraries: everything here is served by the explorer itself.
"use strict";

const $ = (id) => document.getElementById(id);
const CLUSTER_COLORS = ["#ffb454", "#5ccfe6", "#bae67e", "#f28779", "#d4bfff", "#ffd580", "#73d0ff", "#95e6cb",
  "#f29e74", "#a37acc", "#e6b673", "#4cbf99", "#f07171", "#55b4d4", "#c3a6ff", "#86b300"];
const NOISE_COLOR = "#4a5260";
// Viridis-like ramp for parameter values in [0, 1].
const RAMP = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

const NO_VALUE_COLOR = "#3a404c";   // points whose descriptor is undefined (the pitch of noise, silence)

const state = {
  info: null, points: [], parameters: {}, descriptors: {}, colorBy: "cluster",
  view: { scale: 1, dx: 0, dy: 0 }, bounds: null,
  current: null,      // the sound playing: the JSON of /api/decode
  walk: [],           // sounds of the last path
  walkIndex: -1,
  match: null,        // the last matched sound
  upload: null,       // the last upload placed by the encoder: the JSON of /api/encode
  hover: -1, pathMode: false, busy: 0,
  sliderPending: null, sliderInFlight: false,
};

// ------------------------------------------------------------------ API

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.arrayBuffer();
  if (!response.ok) throw new Error(body && body.error ? body.error : `HTTP ${response.status}`);
  return body;
}

const post = (path, data) => api(path, { method: "POST", headers: { "Content-Type": "application/json" },
  body: JSON.stringify(data) });

function setStatus(text, bad = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("bad", bad);
}

// ------------------------------------------------------------------ map geometry

const canvas = $("map");
const ctx = canvas.getContext("2d");

function resize() {
  const ratio = window.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  canvas.width = Math.max(1, Math.round(rect.width * ratio));
  canvas.height = Math.max(1, Math.round(rect.height * ratio));
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  draw();
  const wave = $("wave");
  wave.width = wave.getBoundingClientRect().width * ratio;
  wave.height = wave.getBoundingClientRect().height * ratio;
  drawWave(state.currentSamples);
}

function computeBounds() {
  const xs = state.points.map((p) => p.x), ys = state.points.map((p) => p.y);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const padX = (x1 - x0) * 0.06 || 1, padY = (y1 - y0) * 0.06 || 1;
  state.bounds = { x0: x0 - padX, x1: x1 + padX, y0: y0 - padY, y1: y1 + padY };
}

// Data (UMAP) coordinates -> canvas CSS pixels, keeping the aspect ratio.
function toScreen(x, y) {
  const rect = canvas.getBoundingClientRect(), b = state.bounds;
  const s = Math.min(rect.width / (b.x1 - b.x0), rect.height / (b.y1 - b.y0));
  const cx = rect.width / 2 + (x - (b.x0 + b.x1) / 2) * s, cy = rect.height / 2 - (y - (b.y0 + b.y1) / 2) * s;
  const v = state.view;
  return [rect.width / 2 + (cx - rect.width / 2) * v.scale + v.dx, rect.height / 2 + (cy - rect.height / 2) * v.scale + v.dy];
}

function toData(px, py) {
  const rect = canvas.getBoundingClientRect(), b = state.bounds, v = state.view;
  const s = Math.min(rect.width / (b.x1 - b.x0), rect.height / (b.y1 - b.y0));
  const cx = (px - v.dx - rect.width / 2) / v.scale + rect.width / 2;
  const cy = (py - v.dy - rect.height / 2) / v.scale + rect.height / 2;
  return [(cx - rect.width / 2) / s + (b.x0 + b.x1) / 2, -(cy - rect.height / 2) / s + (b.y0 + b.y1) / 2];
}

function nearestPoint(px, py, radius = 7) {
  let best = -1, bestD = radius * radius;
  state.points.forEach((p, i) => {
    const [sx, sy] = toScreen(p.x, p.y);
    const d = (sx - px) ** 2 + (sy - py) ** 2;
    if (d <= bestD) { best = i; bestD = d; }
  });
  return best;
}

// ------------------------------------------------------------------ colors

function ramp(t) {
  const u = Math.min(Math.max(t, 0), 1) * (RAMP.length - 1), i = Math.min(Math.floor(u), RAMP.length - 2);
  const a = hex(RAMP[i]), b = hex(RAMP[i + 1]), f = u - i;
  return `rgb(${a.map((c, k) => Math.round(c + (b[k] - c) * f)).join(",")})`;
}

function hex(color) { return [1, 3, 5].map((k) => parseInt(color.slice(k, k + 2), 16)); }

// The colouring chosen: {values, lo, hi, title, unit} (a descriptor's finite range, or a parameter's [0, 1]).
function colouring() {
  const name = state.colorBy;
  if (name.startsWith("sound:")) {
    const d = state.info.descriptors.find((x) => x.name === name.slice(6));
    const values = state.descriptors[d.name], finite = values.filter((v) => v !== null);
    return { values, lo: Math.min(...finite), hi: Math.max(...finite), unit: d.unit,
      title: `${d.label} of each training patch's sound`, missing: values.length - finite.length };
  }
  const [lo, hi] = state.parameterEnds[name];
  return { values: state.parameters[name], lo: 0, hi: 1, ends: [lo, hi], unit: "", title: `${name} (synth parameter)`, missing: 0 };
}

function pointColor(i) {
  if (state.colorBy === "cluster") {
    const c = state.points[i].cluster;
    return c < 0 ? NOISE_COLOR : CLUSTER_COLORS[c % CLUSTER_COLORS.length];
  }
  const c = state.colour, v = c.values[i];
  return v === null ? NO_VALUE_COLOR : ramp(c.hi > c.lo ? (v - c.lo) / (c.hi - c.lo) : 0.5);
}

const fmt = (v) => (v === null || v === undefined ? "–" : Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)));

function drawLegend() {
  const el = $("legend");
  if (state.colorBy === "cluster") {
    const counts = new Map();
    state.points.forEach((p) => counts.set(p.cluster, (counts.get(p.cluster) || 0) + 1));
    const ids = [...counts.keys()].sort((a, b) => a - b);
    const shown = ids.filter((c) => c >= 0).slice(0, 12);
    el.innerHTML = `<div>${ids.filter((c) => c >= 0).length} DBSCAN clusters (the evaluation's settings)</div>` + shown.map((c) =>
      `<div class="row"><span class="sw" style="background:${CLUSTER_COLORS[c % CLUSTER_COLORS.length]}"></span>cluster ${c} · ${counts.get(c)}</div>`).join("") +
      (ids.length > shown.length + (counts.has(-1) ? 1 : 0) ? "<div>…</div>" : "") +
      (counts.has(-1) ? `<div class="row"><span class="sw" style="background:${NOISE_COLOR}"></span>noise · ${counts.get(-1)}</div>` : "");
  } else {
    const c = state.colour, unit = c.unit ? ` ${c.unit}` : "";
    const [lo, hi] = c.ends || [fmt(c.lo) + unit, fmt(c.hi) + unit];
    el.innerHTML = `<div class="legend-title">${c.title}</div>` +
      `<div class="bar" style="background:linear-gradient(90deg,${RAMP.join(",")})"></div>` +
      `<div class="ends"><span id="legend-min">${lo}</span><span id="legend-max">${hi}</span></div>` +
      (c.missing ? `<div class="row"><span class="sw" style="background:${NO_VALUE_COLOR}"></span>no value · ${c.missing}</div>` : "");
  }
}

function setColorBy(name) {
  state.colorBy = name;
  $("color-by").value = name;
  state.colour = name === "cluster" ? null : colouring();
  drawLegend();
  draw();
}

// ------------------------------------------------------------------ drawing

function marker(x, y, color, size, shape = "ring") {
  const [sx, sy] = toScreen(x, y);
  ctx.save();
  ctx.lineWidth = 2.5;
  ctx.strokeStyle = color;
  ctx.shadowColor = color;
  ctx.shadowBlur = 10;
  ctx.beginPath();
  if (shape === "star") {
    for (let k = 0; k < 10; k++) {
      const r = k % 2 ? size * 0.45 : size, a = -Math.PI / 2 + k * Math.PI / 5;
      ctx.lineTo(sx + r * Math.cos(a), sy + r * Math.sin(a));
    }
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.fill();
  } else {
    ctx.arc(sx, sy, size, 0, 2 * Math.PI);
  }
  ctx.stroke();
  ctx.restore();
}

function draw() {
  const rect = canvas.getBoundingClientRect();
  ctx.clearRect(0, 0, rect.width, rect.height);
  if (!state.bounds) return;
  const radius = Math.max(2.2, Math.min(5, 3.2 * Math.sqrt(state.view.scale)));
  ctx.globalAlpha = 0.85;
  state.points.forEach((p, i) => {
    const [sx, sy] = toScreen(p.x, p.y);
    ctx.fillStyle = pointColor(i);
    ctx.beginPath();
    ctx.arc(sx, sy, radius, 0, 2 * Math.PI);
    ctx.fill();
  });
  ctx.globalAlpha = 1;
  if (state.walk.length) {
    ctx.save();
    ctx.strokeStyle = "rgba(255,255,255,.75)";
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    state.walk.forEach((s) => { const [sx, sy] = toScreen(s.xy[0], s.xy[1]); ctx.lineTo(sx, sy); });
    ctx.stroke();
    ctx.restore();
    state.walk.forEach((s, i) => {
      const [sx, sy] = toScreen(s.xy[0], s.xy[1]);
      ctx.fillStyle = i === state.walkIndex ? "#ffffff" : "rgba(255,255,255,.55)";
      ctx.beginPath();
      ctx.arc(sx, sy, i === state.walkIndex ? 5 : 3, 0, 2 * Math.PI);
      ctx.fill();
    });
  }
  if (state.match) marker(state.match.xy[0], state.match.xy[1], "#ff6bd5", 11, "star");
  placeUploadMarker();
  if (state.hover >= 0) { const p = state.points[state.hover]; marker(p.x, p.y, "#ffffff", 7); }
  if (state.current) marker(state.current.xy[0], state.current.xy[1], "#ffb454", 9);
}

function drawWave(samples) {
  const wave = $("wave"), w = wave.width, h = wave.height, g = wave.getContext("2d");
  g.clearRect(0, 0, w, h);
  g.strokeStyle = "#2a303b";
  g.beginPath(); g.moveTo(0, h / 2); g.lineTo(w, h / 2); g.stroke();
  if (!samples || !samples.length) return;
  let peak = 1e-6;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  const grad = g.createLinearGradient(0, 0, w, 0);
  grad.addColorStop(0, "#ffb454"); grad.addColorStop(1, "#5ccfe6");
  g.fillStyle = grad;
  const per = samples.length / w;
  for (let x = 0; x < w; x++) {
    let lo = 0, hi = 0;
    for (let k = Math.floor(x * per); k < Math.floor((x + 1) * per); k++) { lo = Math.min(lo, samples[k]); hi = Math.max(hi, samples[k]); }
    const y0 = h / 2 - (hi / peak) * (h / 2 - 2), y1 = h / 2 - (lo / peak) * (h / 2 - 2);
    g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
  }
}

// The float samples of a WAV file (the explorer sends 32-bit float or 16-bit PCM mono).
function wavSamples(buffer) {
  const view = new DataView(buffer);
  let pos = 12, format = 1, bits = 16;
  while (pos + 8 <= view.byteLength) {
    const id = String.fromCharCode(...new Uint8Array(buffer, pos, 4)), size = view.getUint32(pos + 4, true);
    if (id === "fmt ") { format = view.getUint16(pos + 8, true); bits = view.getUint16(pos + 22, true); }
    if (id === "data") {
      const n = Math.floor(Math.min(size, view.byteLength - pos - 8) / (bits / 8)), out = new Array(n);
      for (let k = 0; k < n; k++) {
        out[k] = format === 3 ? view.getFloat32(pos + 8 + 4 * k, true) : view.getInt16(pos + 8 + 2 * k, true) / 32768;
      }
      return out;
    }
    pos += 8 + size + (size % 2);
  }
  return [];
}

// ------------------------------------------------------------------ sounds

const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

// One descriptor's value as a person reads it: the pitch as MIDI, note name and Hz, the others in their unit.
function descriptorText(name, value) {
  if (value === null || value === undefined) return name === "pitch" ? "none (unpitched or silent)" : "–";
  if (name === "pitch") {
    const m = Math.round(value);
    return `${value.toFixed(1)} MIDI (${NOTE_NAMES[((m % 12) + 12) % 12]}${Math.floor(m / 12) - 1}, ${fmt(440 * 2 ** ((value - 69) / 12))} Hz)`;
  }
  const unit = state.info.descriptors.find((d) => d.name === name).unit;
  return `${fmt(value)} ${unit}`;
}

function descriptorRows(values, cls = "k") {
  return state.info.descriptors.map((d) => `<span class="${cls}">${d.name}</span> ${descriptorText(d.name, values[d.name])}`);
}

function showDescriptors(values, what) {
  $("sound-descriptors").innerHTML = `<div class="sub">${what}</div>` + descriptorRows(values).join("<br>");
}

function wavHref(sound) { return `${sound.wav}?download=1&bits=${$("wav-bits").value}`; }

// Shows a sound in the side panel (origin, what it measures, parameters, export links); `sliders`: move the
// sliders to its latent (not while the sliders themselves made it).
function showSound(sound, { origin = sound.origin, sliders = true } = {}) {
  state.current = sound;
  $("origin").textContent = origin;
  showDescriptors(sound.descriptors, "measured from this sound (what plays):");
  $("main-params").innerHTML = Object.entries(sound.main).map(([k, v]) =>
    `<span class="k">${k}</span><span class="v">${v}</span>`).join("");
  const json = $("export-json"), wav = $("export-wav");
  json.href = sound.patch; json.classList.remove("disabled");
  json.download = `patch-${sound.id}.json`;
  wav.href = wavHref(sound); wav.classList.remove("disabled");
  wav.download = `explorer-${sound.id}.wav`;
  $("replay").disabled = false;
  if (sliders) setSliders(sound.z);
  draw();
}

// Fetches a sound's WAV, draws it and plays it; resolves when the audio element has the new sound.
async function play(sound) {
  const buffer = await api(sound.wav);
  state.currentSamples = wavSamples(buffer);
  drawWave(state.currentSamples);
  const player = $("player");
  if (player.dataset.blob) URL.revokeObjectURL(player.dataset.blob);
  const url = URL.createObjectURL(new Blob([buffer], { type: "audio/wav" }));
  player.dataset.blob = url;
  player.src = url;
  player.dataset.soundId = sound.id;
  player.dataset.origin = sound.origin;
  player.play().catch(() => {});   // autoplay may be refused until the page has been clicked
}

async function select(request, label) {
  const t0 = performance.now();
  setStatus(`${label}…`);
  try {
    const sound = await post("/api/decode", request);
    showSound(sound);
    await play(sound);
    setStatus(`${label}: ${Math.round(performance.now() - t0)} ms click to sound`);
    return sound;
  } catch (err) {
    setStatus(err.message, true);
    return null;
  }
}

async function walkTo(target) {
  if (!state.current) { setStatus("select a start point first", true); return; }
  const steps = Math.max(2, Math.min(state.info.path_steps_max, parseInt($("path-steps").value, 10) || 8));
  setStatus(`rendering a ${steps}-step path…`);
  try {
    const { sounds } = await post("/api/path", { a: state.current.z, b: target, steps });
    state.walk = sounds;
    for (let i = 0; i < sounds.length; i++) {
      state.walkIndex = i;
      showSound(sounds[i]);
      await play(sounds[i]);
      setStatus(`path step ${i + 1} of ${sounds.length}`);
      await ended($("player"), state.info.seconds);
    }
    state.walkIndex = -1;
    draw();
    setStatus(`walked ${sounds.length} steps; the last one stays selected`);
  } catch (err) {
    setStatus(err.message, true);
  }
}

// The player's real time, "0.42 / 1.00 s", redrawn every frame while it plays (timeupdate alone is ~4 per second).
function showTime() {
  const player = $("player"), duration = Number.isFinite(player.duration) ? player.duration : 0;
  $("player-time").textContent = `${player.currentTime.toFixed(2)} / ${duration.toFixed(2)} s`;
  if (!player.paused && !player.ended) requestAnimationFrame(showTime);
}
["play", "timeupdate", "seeked", "loadedmetadata", "ended", "pause"].forEach((name) => $("player").addEventListener(name, showTime));

function ended(player, seconds) {
  return new Promise((resolve) => {
    const done = () => { player.removeEventListener("ended", done); clearTimeout(timer); resolve(); };
    const timer = setTimeout(done, (seconds + 0.25) * 1000);
    player.addEventListener("ended", done);
  });
}

// ------------------------------------------------------------------ sliders

function buildSliders() {
  const el = $("sliders"), info = state.info;
  el.innerHTML = "";
  for (let i = 0; i < info.latent_dim; i++) {
    const label = document.createElement("span"), input = document.createElement("input"), value = document.createElement("span");
    const named = info.slider_labels[i];
    label.className = "k"; label.textContent = named.label;
    label.title = named.descriptor ? `moving z${i + 1} up moves ${named.descriptor} ${named.r > 0 ? "up" : "down"} most ` +
      `(Spearman r = ${named.r} over the map's points)` : `no sound descriptor follows z${i + 1} with |r| >= ${info.slider_label_min_r}`;
    value.className = "v"; value.textContent = "0.00";
    Object.assign(input, { type: "range", min: info.slider_min[i], max: info.slider_max[i], step: 0.01, value: 0 });
    input.id = `z${i}`;
    input.disabled = true;
    input.addEventListener("input", () => { value.textContent = Number(input.value).toFixed(2); sliderMoved(); });
    el.append(label, input, value);
  }
}

function setSliders(z) {
  z.forEach((v, i) => {
    const input = $(`z${i}`);
    input.disabled = false;
    input.value = v;
    input.nextSibling.textContent = Number(v).toFixed(2);
  });
}

function sliderMoved() {
  state.sliderPending = Array.from({ length: state.info.latent_dim }, (_, i) => Number($(`z${i}`).value));
  if (!state.sliderInFlight) sendSliders();
}

// One request at a time; the newest slider position wins.
async function sendSliders() {
  const z = state.sliderPending;
  if (!z) return;
  state.sliderPending = null;
  state.sliderInFlight = true;
  const t0 = performance.now();
  try {
    const sound = await post("/api/decode", { z });
    showSound(sound, { origin: "latent sliders", sliders: false });
    await play(sound);
    setStatus(`latent sliders: ${Math.round(performance.now() - t0)} ms to sound`);
  } catch (err) {
    setStatus(err.message, true);
  }
  state.sliderInFlight = false;
  if (state.sliderPending) sendSliders();
}

// ------------------------------------------------------------------ uploads

// The upload's marker: an element over the canvas at the encoder's map position (kept there on zoom and pan).
function placeUploadMarker() {
  const el = $("upload-marker");
  if (!state.upload) { el.hidden = true; return; }
  const [sx, sy] = toScreen(state.upload.xy[0], state.upload.xy[1]);
  el.style.left = `${sx}px`;
  el.style.top = `${sy}px`;
  el.hidden = false;
}

// A dropped or chosen WAV: placed on the map at once by a model that hears (POST /api/encode), then refined
// by sound matching (POST /api/match, slower); a model that encodes parameters only matches.
async function uploadFile(file) {
  if (!file) return;
  if (file.size > state.info.upload_limit_bytes) {
    setStatus(`${file.name} is ${file.size} bytes; the limit is ${state.info.upload_limit_bytes}`, true);
    return;
  }
  if (state.info.hears_audio) {
    try {
      const placed = await api("/api/encode", { method: "POST", headers: { "Content-Type": "audio/wav" }, body: file });
      state.upload = placed;
      $("upload-marker").title = `${file.name}: where the encoder puts it (its decoded patch plays)`;
      showSound(placed.sound, { origin: `upload ${file.name} (decoded)` });
      await play(placed.sound);
      setStatus(`${file.name}: placed by the encoder (the ring marks it); refining by sound matching…`);
    } catch (err) {
      setStatus(`${file.name}: ${err.message}`, true);
      return;
    }
  }
  await matchFile(file);
}

// ------------------------------------------------------------------ matching

async function matchFile(file) {
  if (!file) return;
  if (file.size > state.info.upload_limit_bytes) {
    setStatus(`${file.name} is ${file.size} bytes; the limit is ${state.info.upload_limit_bytes}`, true);
    return;
  }
  setStatus(`matching ${file.name}: about ${state.info.match_budget_s} s of search (the first match also compiles)…`);
  $("match-button").disabled = true;
  try {
    const result = await api("/api/match", { method: "POST", headers: { "Content-Type": "audio/wav" }, body: file });
    state.match = result.sound;
    showSound(result.sound);
    await play(result.sound);
    const m = result.match;
    setStatus(`${file.name}: matched by ${m.method}, spectral distance ${m.spectral_distance.toFixed(3)} ` +
      `(${m.renders} renders, ${m.seconds} s); the star marks it` + (m.notes.length ? ` · ${m.notes.join("; ")}` : ""));
  } catch (err) {
    setStatus(`${file.name}: ${err.message}`, true);
  }
  $("match-button").disabled = false;
}

// ------------------------------------------------------------------ events

function tooltip(i, px, py) {
  const tip = $("tooltip");
  if (i < 0) { tip.hidden = true; return; }
  const p = state.points[i], values = {};
  state.info.descriptors.forEach((d) => { values[d.name] = state.descriptors[d.name][i]; });
  const clicks = $("play-original").checked ? "this training patch" : "its decoded patch (the model's reconstruction)";
  tip.innerHTML = `<b>point ${p.index}</b> · ${p.cluster < 0 ? "noise" : "cluster " + p.cluster}<br>` +
    `<div class="tip-head">the training patch (this point's own sound), measured:</div>` +
    descriptorRows(values).join("<br>") +
    `<div class="tip-head">its synth parameters (as set):</div>` +
    Object.entries(p.main).map(([k, v]) => `<span class="k">${k}</span> ${v}`).join("<br>") +
    `<div class="tip-foot">click plays ${clicks}</div>`;
  tip.hidden = false;
  const rect = canvas.getBoundingClientRect();
  tip.style.left = `${Math.min(px + 14, rect.width - tip.offsetWidth - 6)}px`;
  tip.style.top = `${Math.min(py + 14, rect.height - tip.offsetHeight - 6)}px`;
}

function mousePosition(event) {
  const rect = canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

let drag = null;
canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, dx: state.view.dx, dy: state.view.dy, moved: false }; });
window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); });
canvas.addEventListener("mousemove", (e) => {
  const [px, py] = mousePosition(e);
  if (drag && (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 4)) {
    drag.moved = true;
    state.view.dx = drag.dx + e.clientX - drag.x;
    state.view.dy = drag.dy + e.clientY - drag.y;
    tooltip(-1); draw();
    return;
  }
  const i = nearestPoint(px, py);
  if (i !== state.hover) { state.hover = i; draw(); }
  tooltip(i, px, py);
});
canvas.addEventListener("mouseleave", () => { state.hover = -1; tooltip(-1); draw(); });
canvas.addEventListener("click", (e) => {
  if (drag && drag.moved) return;
  const [px, py] = mousePosition(e);
  const i = nearestPoint(px, py);
  if (e.shiftKey || state.pathMode) {
    state.pathMode = false;
    $("path-mode").classList.remove("active");
    const end = i >= 0 ? post("/api/decode", { point: i }) : post("/api/decode", { xy: toData(px, py) });
    end.then((sound) => walkTo(sound.z)).catch((err) => setStatus(err.message, true));
    return;
  }
  state.walk = [];
  if (i >= 0) {
    if ($("play-original").checked) playOriginal(i);
    else select({ point: i }, `point ${i}`);
  } else {
    select({ xy: toData(px, py) }, "latent under the cursor");
  }
});
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  const [px, py] = mousePosition(e), rect = canvas.getBoundingClientRect();
  const factor = Math.exp(-e.deltaY * 0.0015), v = state.view;
  const scale = Math.min(40, Math.max(0.5, v.scale * factor)), f = scale / v.scale;
  v.dx = (px - rect.width / 2) - f * (px - rect.width / 2 - v.dx);
  v.dy = (py - rect.height / 2) - f * (py - rect.height / 2 - v.dy);
  v.scale = scale;
  draw();
}, { passive: false });
canvas.addEventListener("dblclick", () => { state.view = { scale: 1, dx: 0, dy: 0 }; draw(); });

async function playOriginal(i) {
  setStatus(`training patch of point ${i}…`);
  try {
    const buffer = await api(`/api/sound/${i}.wav?source=original`);
    state.currentSamples = wavSamples(buffer);
    drawWave(state.currentSamples);
    const player = $("player");
    player.src = URL.createObjectURL(new Blob([buffer], { type: "audio/wav" }));
    player.dataset.origin = `point ${i} (training patch)`;
    $("origin").textContent = player.dataset.origin;
    const values = {};
    state.info.descriptors.forEach((d) => { values[d.name] = state.descriptors[d.name][i]; });
    showDescriptors(values, "measured from this sound (the training patch):");
    player.play().catch(() => {});
    setStatus(`training patch of point ${i} (before encoding)`);
  } catch (err) {
    setStatus(err.message, true);
  }
}

const wrap = canvas.parentElement;
["dragenter", "dragover"].forEach((name) => wrap.addEventListener(name, (e) => {
  e.preventDefault(); wrap.classList.add("dragover"); $("drop-hint").hidden = false;
}));
["dragleave", "drop"].forEach((name) => wrap.addEventListener(name, (e) => {
  e.preventDefault(); wrap.classList.remove("dragover"); $("drop-hint").hidden = true;
}));
wrap.addEventListener("drop", (e) => uploadFile(e.dataTransfer.files[0]));
$("match-button").addEventListener("click", () => $("match-file").click());
$("match-file").addEventListener("change", (e) => { uploadFile(e.target.files[0]); e.target.value = ""; });
$("wav-bits").addEventListener("change", () => { if (state.current) $("export-wav").href = wavHref(state.current); });
$("path-mode").addEventListener("click", () => {
  state.pathMode = !state.pathMode;
  $("path-mode").classList.toggle("active", state.pathMode);
  setStatus(state.pathMode ? "click where the path ends" : "");
});
$("replay").addEventListener("click", () => { const p = $("player"); p.currentTime = 0; p.play(); });
$("color-by").addEventListener("change", (e) => setColorBy(e.target.value));
window.addEventListener("resize", resize);

// ------------------------------------------------------------------ start

async function start() {
  try {
    const [info, map] = await Promise.all([api("/api/info"), api("/api/points")]);
    state.info = info;
    state.points = map.points;
    state.parameters = map.parameters;
    state.parameterEnds = map.parameter_ends;
    state.descriptors = map.descriptors;
    $("run-info").textContent = `${info.case || info.run} · ${info.checkpoint} checkpoint (step ${info.step}) · ` +
      `${info.sample_rate} Hz × ${info.seconds} s · ${info.latent_dim}-D latent`;
    $("point-count").textContent = `${map.points.length} points · ${map.n_clusters} clusters · map from ${info.map_source === "evaluation" ? "the evaluation" : "this server"}`;
    $("point-count").dataset.n = map.points.length;
    $("inversion").textContent = `Each dot is a training patch, encoded and placed by UMAP; colours are DBSCAN clusters ` +
      `of the map, or a sound descriptor measured from each training patch's render (pitch by autocorrelation, ` +
      `loudness as RMS, brightness as spectral centroid, noisiness as spectral flatness in dB, 0 dB for white noise), ` +
      `or a synth parameter. ` +
      `Hovering describes the training patch; clicking a dot plays its decoded patch (tick "original patch" to play ` +
      `the training patch). Sliders are named after the descriptor that follows them most (|Spearman r| >= ` +
      `${info.slider_label_min_r}). A WAV dropped on the map lands where the encoder puts it` +
      `${info.hears_audio ? "" : " (not with this run: its model encodes parameters, so drops are only matched)"}. ` +
      `Clicking empty space uses a ${info.inversion}. Paths walk the straight line between two latents; sliders ` +
      `edit the selected latent directly.`;
    $("path-steps").max = info.path_steps_max;
    const select = $("color-by");
    const group = (label, options) => {
      const el = document.createElement("optgroup");
      el.label = label;
      options.forEach(([value, text]) => {
        const option = document.createElement("option");
        option.value = value; option.textContent = text;
        el.append(option);
      });
      select.append(el);
    };
    group("sound (measured from each training patch's audio)",
      info.descriptors.map((d) => [`sound:${d.name}`, `${d.name} (${d.unit})`]));
    group("synth parameter", Object.keys(map.parameters).map((name) => [name, name]));
    buildSliders();
    computeBounds();
    // A map that DBSCAN leaves mostly unclustered (the thesis's eps on a smooth latent space) reads better by pitch.
    const noise = map.points.filter((p) => p.cluster < 0).length;
    setColorBy(noise > map.points.length / 2 ? "sound:pitch" : "cluster");
    resize();
    document.body.dataset.ready = "1";
  } catch (err) {
    $("run-info").textContent = `could not load the map: ${err.message}`;
  }
}

// For tests and the curious: where a point is drawn, in CSS pixels from the canvas's top-left corner.
window.explorer = { state, screenPosition: (i) => toScreen(state.points[i].x, state.points[i].y),
  screenOf: (xy) => toScreen(xy[0], xy[1]) };
start();
