// simswarm dashboard: a campaign's Results tab. The view (pushed live like
// every page, see app.js) holds the chosen scalar's mean and 95%
// confidence half-width per point of the iteration variables; this draws
// them as an SVG plot against the x variable, one line per series, with
// error bars. No library: the SVG is built element by element, and data
// goes in as text or attribute values only.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";

// svgEl builds an SVG element: svgEl("line", {x1: 0, ...}, kids...).
function svgEl(tag, attrs, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of kids.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// leadingNumber reads "1.5s" as 1.5, as the table orders values.
function leadingNumber(v) {
  const f = Number.parseFloat(v);
  return Number.isFinite(f) ? f : null;
}

// niceTicks returns about n round values spanning [lo, hi].
function niceTicks(lo, hi, n) {
  const span = hi - lo;
  const raw = span / Math.max(1, n);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => span / st <= n) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const fmtNum = (v) => (v === null || v === undefined ? "—" : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(+v.toPrecision(5)));

// plot draws the series of view d as an SVG.
function plot(d) {
  const W = 900, H = 420, L = 78, R = 20, T = 16, B = 52;
  const pts = d.series.flatMap((sr) => sr.points);
  const finite = pts.filter((p) => p.mean !== null);
  if (!finite.length) return h("p", { class: "muted", id: "results-empty" }, d.runs ? "No values of this scalar in the runs indexed so far." : "No run has been indexed yet: the plot fills in as runs finish.");
  // x: numeric when every value reads as a number, else categories in order.
  const numeric = pts.every((p) => leadingNumber(p.x) !== null);
  const cats = [...new Set(pts.map((p) => p.x))];
  const xOf = numeric ? (p) => leadingNumber(p.x) : (p) => cats.indexOf(p.x);
  let x0 = Math.min(...pts.map(xOf)), x1 = Math.max(...pts.map(xOf));
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const xpad = numeric ? (x1 - x0) * 0.04 : 0.5;
  x0 -= xpad; x1 += xpad;
  let y0 = Math.min(...finite.map((p) => p.mean - (p.ci95 || 0))), y1 = Math.max(...finite.map((p) => p.mean + (p.ci95 || 0)));
  if (y0 === y1) { const e = Math.abs(y0) * 0.1 || 1; y0 -= e; y1 += e; }
  const ypad = (y1 - y0) * 0.06;
  y0 -= ypad; y1 += ypad;
  const X = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);

  const svg = svgEl("svg", { id: "results-plot", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": d.scalar + " against " + d.x });
  svg.append(svgEl("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "#fff", stroke: "#c5ccd6" }));
  for (const v of niceTicks(y0, y1, 6)) {
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#eef0f3" }),
      svgEl("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end", class: "tick" }, fmtNum(v)));
  }
  const xticks = numeric ? niceTicks(x0, x1, 8) : cats.map((_, i) => i);
  for (const v of xticks) {
    svg.append(svgEl("line", { x1: X(v), x2: X(v), y1: H - B, y2: H - B + 5, stroke: "#98a2b3" }),
      svgEl("text", { x: X(v), y: H - B + 18, "text-anchor": "middle", class: "tick" }, numeric ? fmtNum(v) : cats[v]));
  }
  svg.append(svgEl("text", { x: (L + W - R) / 2, y: H - 10, "text-anchor": "middle", class: "axis" }, d.x || "(no iteration variable)"),
    svgEl("text", { x: 16, y: (T + H - B) / 2, "text-anchor": "middle", class: "axis", transform: `rotate(-90 16 ${(T + H - B) / 2})` }, d.scalar));
  d.series.forEach((sr, i) => {
    const col = PALETTE[i % PALETTE.length];
    const g = svgEl("g", { "data-series": sr.label, stroke: col, fill: col });
    const line = sr.points.filter((p) => p.mean !== null).sort((a, b) => xOf(a) - xOf(b));
    if (line.length > 1) g.append(svgEl("polyline", { fill: "none", "stroke-width": 1.5, points: line.map((p) => X(xOf(p)) + "," + Y(p.mean)).join(" ") }));
    for (const p of line) {
      const cx = X(xOf(p));
      if (p.ci95 !== null && p.ci95 > 0) {
        const a = Y(p.mean - p.ci95), b = Y(p.mean + p.ci95);
        g.append(svgEl("line", { class: "errbar", x1: cx, x2: cx, y1: a, y2: b, "stroke-width": 1.2 }),
          svgEl("line", { x1: cx - 4, x2: cx + 4, y1: a, y2: a }), svgEl("line", { x1: cx - 4, x2: cx + 4, y1: b, y2: b }));
      }
      g.append(svgEl("circle", { class: "pt", cx, cy: Y(p.mean), r: 3.5, "data-x": p.x, "data-n": p.n, "data-mean": p.mean, "data-ci": p.ci95 === null ? "" : p.ci95 },
        svgEl("title", {}, `${sr.label ? sr.label + ", " : ""}${d.x}=${p.x}: mean ${fmtNum(p.mean)} ± ${fmtNum(p.ci95)} (n=${p.n})`)));
    }
    svg.append(g);
  });
  return svg;
}

function legend(d) {
  return h("div", { class: "legend", id: "results-legend" }, d.series.map((sr, i) => {
    const sw = h("span", { class: "sw" });
    sw.style.background = PALETTE[i % PALETTE.length];
    return h("span", {}, sw, sr.label || "all runs");
  }));
}

function resultsTable(d) {
  const rows = d.series.flatMap((sr) => sr.points.map((p) => h("tr", {},
    h("td", {}, sr.label || "—"), h("td", {}, p.x), h("td", { class: "num" }, p.n),
    h("td", { class: "num" }, fmtNum(p.mean)), h("td", { class: "num" }, p.ci95 === null ? "—" : "± " + fmtNum(p.ci95)))));
  return h("table", { id: "results-table" }, h("thead", {}, h("tr", {}, ["Series", d.x || "x", "n", "Mean", "95% CI"].map((x, i) => h("th", { class: i >= 2 ? "num" : "" }, x)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No points yet."))));
}

// campaignTabs links a campaign's Runs and Results tabs.
function campaignTabs(name, on) {
  const base = "/ui/campaigns/" + encodeURIComponent(name);
  return h("nav", { class: "subtabs" }, h("a", { href: base, class: on === "runs" ? "on" : "", id: "runs-link" }, "Runs"),
    h("a", { href: base + "/results", class: on === "results" ? "on" : "", id: "results-link" }, "Results"));
}

function resultsPage(name) {
  const q = new URLSearchParams(location.search);
  const state = { scalar: q.get("scalar") || "", x: q.get("x") || "", series: q.get("series") || "", filter: "" };
  const main = document.getElementById("main");
  const sel = (id) => h("select", { id, onchange: (e) => { state[id.replace("results-", "")] = e.target.value; open(); } });
  const scalarSel = sel("results-scalar"), xSel = sel("results-x"), seriesSel = sel("results-series");
  const filter = h("input", { id: "results-filter", type: "search", placeholder: "filter names", oninput: (e) => { state.filter = e.target.value; if (last) fill(last); } });
  const title = h("h1", {}, name), status = h("p", { class: "muted", id: "results-status" }), body = h("div", { id: "results-body" });
  main.replaceChildren(title, campaignTabs(name, "results"),
    h("div", { class: "controls" }, h("label", {}, "Scalar ", filter, scalarSel), h("label", {}, "x ", xSel), h("label", {}, "Series ", seriesSel)),
    status, body);
  let last = null;
  const options = (el, values, chosen, none) => {
    const want = JSON.stringify([values, chosen, none]);
    if (el.dataset.opts === want) return;
    el.dataset.opts = want;
    el.replaceChildren(...(none ? [h("option", { value: "" }, none)] : []), ...values.map((v) => h("option", { value: v, selected: v === chosen }, v)));
    el.value = chosen;
  };
  const fill = (d) => {
    const f = state.filter.toLowerCase();
    const shown = d.scalars.filter((n) => !f || n.toLowerCase().includes(f) || n === d.scalar);
    options(scalarSel, shown, d.scalar);
    options(xSel, d.vars, d.x);
    options(seriesSel, d.vars.filter((v) => v !== d.x), d.seriesVar, d.vars.length > 1 ? "" : "(none)");
  };
  const open = () => {
    const u = new URLSearchParams();
    for (const k of ["scalar", "x", "series"]) if (state[k]) u.set(k, state[k]);
    history.replaceState(null, "", location.pathname + (u.toString() ? "?" + u : ""));
    live(Object.assign({ view: "results", name }, Object.fromEntries(u)), render, gone);
  };
  const gone = (err) => {
    if (!err.notFound) return false;
    if (source) source.close();
    main.replaceChildren(h("h1", {}, name, " ", badge("Deleted")), h("p", { id: "gone" }, `Campaign ${name} does not exist (any more).`),
      h("p", {}, h("a", { href: "/ui/" }, "← All campaigns")));
    return true;
  };
  const render = (d) => {
    last = d;
    const c = d.campaign;
    title.replaceChildren(c.name, " ", badge(c.phase));
    if (!d.available) {
      status.textContent = "This controller has no result index to read.";
      body.replaceChildren();
      return;
    }
    // The server's defaults become the page's choices, so that they hold
    // while runs come in.
    state.scalar = state.scalar || d.scalar;
    state.x = state.x || d.x;
    fill(d);
    const done = c.runs.succeeded + c.runs.failed + (c.runs.skipped || 0);
    status.textContent = `${fmtInt(d.runs)} run${d.runs === 1 ? "" : "s"} indexed (${fmtInt(done)} of ${fmtInt(c.runs.total)} finished); ` +
      `mean of each point's repetitions with its 95% confidence interval` + (d.scalarsCut ? `; ${fmtInt(d.scalarsCut)} more names not listed` : "") +
      ` — read in ${fmtMS(d.costMs) === "—" ? "<1 ms" : fmtMS(d.costMs)}, ${new Date(d.at).toLocaleTimeString()}`;
    status.dataset.runs = d.runs;
    body.replaceChildren(plot(d), legend(d),
      d.problemCount ? h("details", { id: "results-problems" }, h("summary", { class: "error" }, `${fmtInt(d.problemCount)} run${d.problemCount === 1 ? "" : "s"} not (fully) indexed`),
        h("ul", {}, (d.problems || []).map((p) => h("li", {}, p)))) : "",
      h("h2", {}, "Values"), resultsTable(d),
      h("p", { class: "muted" }, "The same numbers: simswarm results table " + c.name + " --scalar '" + d.scalar + "'"));
  };
  open();
}
