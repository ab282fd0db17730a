// The status page: polls /status.json every second and redraws hand-made SVG plots (no library, no CDN: the page
// must work where nothing outside the machine is reachable, and four small plots need no charting library).
"use strict";
const NS = "http://www.w3.org/2000/svg";
const COLORS = { device: "#d62728", host: "#1f77b4", disk: "#2ca02c", peer: "#9467bd", remote: "#8c564b", served: "#ff7f0e", fetched: "#17becf" };
let updates = 0;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function bytes(n) {
  if (n < 0) return "-";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + u[i];
}
function text(id, v) { const e = document.getElementById(id); if (e) e.textContent = v; }

/** Lines of {name: [[t, v]...]} on svg, with dashed lines for {name: constant} (budgets). */
function plot(svg, series, dashed, fmt, legendId, label) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height"), L = 70, R = 10, T = 10, B = 24;
  let t0 = Infinity, t1 = -Infinity, vmax = 1;
  for (const k in series) for (const [t, v] of series[k]) { t0 = Math.min(t0, t); t1 = Math.max(t1, t); vmax = Math.max(vmax, v); }
  for (const k in dashed) if (dashed[k] > 0) vmax = Math.max(vmax, dashed[k]);
  if (!isFinite(t0)) return;
  if (t1 - t0 < 60000) t0 = t1 - 60000;
  vmax *= 1.1;
  const x = t => L + (W - L - R) * (t - t0) / (t1 - t0), y = v => H - B - (H - B - T) * v / vmax;
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" }, svg);
  el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#999" }, svg);
  for (let i = 0; i <= 4; i++) {
    const v = vmax * i / 4;
    el("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), stroke: "#eee" }, svg);
    el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#666" }, svg).textContent = fmt(v);
  }
  el("text", { x: L, y: H - 6, "font-size": 10, fill: "#666" }, svg).textContent = "-" + Math.round((t1 - t0) / 1000) + " s";
  el("text", { x: W - R, y: H - 6, "text-anchor": "end", "font-size": 10, fill: "#666" }, svg).textContent = "now";
  const legend = document.getElementById(legendId);
  if (legend) legend.innerHTML = "";
  for (const k in series) {
    const pts = series[k].map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    el("polyline", { points: pts, fill: "none", stroke: COLORS[k] || "#333", "stroke-width": 2, "data-series": k }, svg);
    if (legend) legend.insertAdjacentHTML("beforeend", '<span><i class="sw" style="background:' + (COLORS[k] || "#333")
      + '"></i>' + (label ? label(k) : k) + "</span>");
  }
  for (const k in dashed) {
    if (dashed[k] > 0) {
      el("line", { x1: L, y1: y(dashed[k]), x2: W - R, y2: y(dashed[k]), stroke: COLORS[k] || "#555",
        "stroke-dasharray": "5,4", "data-budget": k }, svg);
      el("text", { x: W - R - 2, y: y(dashed[k]) - 3, "text-anchor": "end", "font-size": 10, fill: "#555" }, svg).textContent = k;
    }
  }
}

/** Rate per second of a cumulative counter, between consecutive samples. */
function rate(samples, get) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].t - samples[i - 1].t) / 1000;
    if (dt > 0) out.push([samples[i].t, Math.max(0, (get(samples[i]) - get(samples[i - 1])) / dt)]);
  }
  return out;
}

function heatmap(svg, ex) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const cell = Math.max(8, Math.min(28, Math.floor(440 / Math.max(1, ex.experts)))), L = 60, T = 16;
  svg.setAttribute("width", L + cell * ex.experts + 10);
  svg.setAttribute("height", T + cell * ex.layers + 10);
  for (let e = 0; e < ex.experts; e += Math.max(1, Math.ceil(ex.experts / 16))) {
    el("text", { x: L + e * cell + cell / 2, y: 12, "text-anchor": "middle", "font-size": 9, fill: "#666" }, svg).textContent = e;
  }
  for (let l = 0; l < ex.layers; l++) {
    const row = ex.counts[l], max = Math.max(1, ...row);
    el("text", { x: L - 6, y: T + l * cell + cell * 0.7, "text-anchor": "end", "font-size": 10, fill: "#666" }, svg).textContent = "layer " + l;
    for (let e = 0; e < ex.experts; e++) {
      const a = row[e] / max;
      const r = el("rect", { x: L + e * cell, y: T + l * cell, width: cell - 1, height: cell - 1,
        fill: "rgb(" + Math.round(255 - 40 * a) + "," + Math.round(245 - 190 * a) + "," + Math.round(235 - 200 * a) + ")",
        "data-count": row[e] }, svg);
      el("title", {}, r).textContent = "layer " + l + ", expert " + e + ": " + row[e] + " uses";
    }
  }
}

function render(s) {
  const samples = s.samples, last = samples[samples.length - 1] || {};
  text("kind", s.kind === "serve" ? "serve" : "peer");
  text("model", s.model || s.node || "");
  text("clock", new Date(last.t || Date.now()).toLocaleTimeString());
  if (s.kind === "serve") {
    const tb = document.querySelector("#tiers tbody");
    tb.innerHTML = "";
    const occ = {}, budgets = {}, bw = {};
    for (const tier in last.tiers) {
      const ts = last.tiers[tier];
      tb.insertAdjacentHTML("beforeend", "<tr><td>" + tier + '</td><td id="tier-' + tier + '-used" data-bytes="' + ts.used + '">'
        + bytes(ts.used) + '</td><td id="tier-' + tier + '-budget" data-bytes="' + ts.budget + '">' + bytes(ts.budget)
        + '</td><td data-bytes="' + ts.highWater + '">' + bytes(ts.highWater) + '</td><td id="tier-' + tier
        + '-paged-in" data-bytes="' + ts.bytesIn + '">' + bytes(ts.bytesIn) + '</td><td id="tier-' + tier + '-hits">' + ts.hits
        + '</td><td id="tier-' + tier + '-misses">' + ts.misses + "</td></tr>");
      // occupancy as a share of the tier's budget, so a 9 MiB host tier and a 64 GiB disk tier share one axis
      if (ts.budget > 0) {
        occ[tier] = samples.filter(x => x.tiers && x.tiers[tier]).map(x => [x.t, 100 * x.tiers[tier].used / ts.budget]);
        budgets[tier] = ts.budget;
      }
      bw[tier] = rate(samples.filter(x => x.tiers && x.tiers[tier]), x => x.tiers[tier].bytesIn);
    }
    text("completion-tokens", last.completionTokens);
    text("prompt-tokens", last.promptTokens);
    text("requests", last.requests);
    text("active", last.active);
    plot(document.getElementById("occupancy"), occ, { budget: 100 }, v => v.toFixed(0) + " %", "occupancy-legend",
      k => k + ": " + bytes(last.tiers[k].used) + " of " + bytes(budgets[k]) + " (high water "
        + bytes(last.tiers[k].highWater) + ")");
    plot(document.getElementById("bandwidth"), bw, {}, v => bytes(v) + "/s", "bandwidth-legend");
    heatmap(document.getElementById("heatmap"), s.experts);
  } else {
    document.getElementById("serve-section").hidden = true;
  }
  if (s.node) {
    document.getElementById("peer-section").hidden = false;
    text("node", s.node.substring(0, 16) + "… on " + s.listen);
    text("bytes-served", last.bytesServed);
    text("bytes-fetched", last.bytesFetched);
    text("known", s.known);
    text("banned", s.banned);
    plot(document.getElementById("peer-rates"), { served: rate(samples, x => x.bytesServed), fetched: rate(samples, x => x.bytesFetched) },
      {}, v => bytes(v) + "/s", "peer-legend");
    const tb = document.querySelector("#peers tbody");
    tb.innerHTML = "";
    for (const p of s.peers) {
      tb.insertAdjacentHTML("beforeend", "<tr><td>" + p.address + "</td><td>" + p.id.substring(0, 12) + "…</td><td>"
        + (p.outbound ? "out" : "in") + "</td></tr>");
    }
  }
  updates++;
  text("updates", updates);
  document.body.dataset.updates = updates;
}

async function poll() {
  try {
    const r = await fetch("status.json", { cache: "no-store" });
    if (r.ok) render(await r.json());
  } catch (e) {
    text("clock", "server unreachable: " + e);
  }
  setTimeout(poll, 1000);
}
poll();
