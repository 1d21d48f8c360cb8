// simswarm dashboard. Plain JavaScript, no dependencies. Every page is
// one JSON view pushed by the controller as server-sent events
// (/ui/api/stream); actions go to the controller's API with the session
// cookie and the CSRF token. Data is only ever inserted as text, never as
// HTML.
"use strict";

const meta = (n) => document.querySelector('meta[name="' + n + '"]').content;
const CSRF = meta("csrf-token");
const API = meta("api-prefix");

// h builds an element: h("td", {class: "num"}, "12", otherNode).
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of kids.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const fmtInt = (n) => (n || 0).toLocaleString("en-US");
function fmtDur(sec) {
  if (sec === undefined || sec === null || sec < 0 || !isFinite(sec)) return "—";
  sec = Math.round(sec);
  if (sec < 60) return sec + "s";
  const m = Math.floor(sec / 60), s = sec % 60;
  if (m < 60) return m + "m " + String(s).padStart(2, "0") + "s";
  const hh = Math.floor(m / 60), mm = m % 60;
  if (hh < 48) return hh + "h " + String(mm).padStart(2, "0") + "m";
  return Math.floor(hh / 24) + "d " + (hh % 24) + "h";
}
const fmtMS = (ms) => (ms ? (ms < 1000 ? ms + " ms" : fmtDur(ms / 1000)) : "—");
function ago(t, now) {
  if (!t) return "—";
  const d = (new Date(now || Date.now()) - new Date(t)) / 1000;
  return d < 1 ? "just now" : fmtDur(d) + " ago";
}
function fmtBytes(b) {
  if (!b) return "—";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return b.toFixed(i ? 1 : 0) + " " + u[i];
}
const badge = (s) => h("span", { class: "badge " + s }, s);

// Services get distinct colours from a palette, in the order of their
// names (so they stay put while the page updates); beyond it, a hue from
// the name.
const PALETTE = ["#1c7ed6", "#2f9e44", "#e8590c", "#7048e8", "#c2255c", "#0c8599", "#e67700", "#5c940d", "#364fc7", "#a61e4d", "#087f5b", "#862e9c"];
let paletteOf = {};
function setPalette(names) {
  paletteOf = {};
  [...new Set(names)].sort().forEach((n, i) => { if (i < PALETTE.length) paletteOf[n] = PALETTE[i]; });
}
function hue(name) {
  let x = 0;
  for (const ch of name) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return x % 360;
}
function colour(el, name) { el.style.background = paletteOf[name] || "hsl(" + hue(name) + " 55% 42%)"; return el; }

function toast(msg) {
  const t = h("div", { class: "toast", role: "status" }, msg);
  document.body.append(t);
  setTimeout(() => t.remove(), 4000);
}

function banner(msg, bad) {
  const b = document.getElementById("banner");
  if (!msg) { b.hidden = true; return; }
  b.textContent = msg;
  b.className = "banner" + (bad ? " bad" : "");
  b.hidden = false;
}

// api calls the controller's API with the session.
async function api(method, path) {
  const r = await fetch(API + path, { method, credentials: "same-origin", headers: { "X-CSRF-Token": CSRF } });
  if (r.status === 401) { location.href = "/ui/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("logged out"); }
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((body && body.message) || r.status + " " + r.statusText);
  return body;
}

async function act(btn, method, path, done) {
  btn.disabled = true;
  try {
    const out = await api(method, path);
    toast(done(out));
  } catch (e) {
    toast("Failed: " + e.message);
  } finally {
    btn.disabled = false;
  }
}

// ---- live views ------------------------------------------------------------

let source = null;
function live(params, render, onError) {
  if (source) source.close();
  const liveEl = document.getElementById("live");
  const es = new EventSource("/ui/api/stream?" + new URLSearchParams(params));
  source = es;
  es.addEventListener("view", (e) => {
    liveEl.textContent = "live";
    liveEl.className = "live ok";
    banner("");
    render(JSON.parse(e.data));
  });
  es.addEventListener("problem", (e) => {
    const err = JSON.parse(e.data);
    if (onError && onError(err)) return;
    banner("The controller cannot compute this view: " + err.message, true);
  });
  es.addEventListener("logout", () => { location.href = "/ui/login"; });
  es.onerror = async () => {
    liveEl.textContent = "reconnecting…";
    liveEl.className = "live bad";
    if (es.readyState === EventSource.CLOSED) {
      // Refused (not a dropped connection): the session may be gone.
      const r = await fetch("/ui/api/overview", { credentials: "same-origin" }).catch(() => null);
      if (r && r.status === 401) location.href = "/ui/login?next=" + encodeURIComponent(location.pathname + location.search);
      else setTimeout(() => { if (source === es) live(params, render, onError); }, 3000);
    }
  };
}

// ---- shared pieces ---------------------------------------------------------

function progressBar(c) {
  const r = c.runs, t = r.total || 0;
  const pct = (n) => (t ? (100 * n) / t : 0) + "%";
  const bar = h("div", { class: "bar", title: `${r.succeeded} succeeded, ${r.failed} failed, ${r.running} running, ${r.queued} queued, ${r.pending} pending${r.blocked ? `, ${r.blocked} blocked by the failed build` : ""}${r.skipped ? `, ${r.skipped} skipped by the stop rule` : ""}${r.reused ? ` (${r.reused} of the succeeded reused from runs already stored)` : ""}` });
  for (const [cls, n] of [["s", r.succeeded], ["k", r.skipped || 0], ["f", r.failed], ["r", r.running], ["q", r.queued]]) {
    const seg = h("span", { class: cls });
    seg.style.width = pct(n);
    bar.append(seg);
  }
  const done = r.succeeded + r.failed + (r.skipped || 0);
  return h("div", { class: "progress", "data-campaign": c.name, "data-done": done, "data-total": t },
    bar, h("div", { class: "progress-label" }, `${fmtInt(done)} / ${fmtInt(t)} (${t ? Math.floor((100 * done) / t) : 0}%)`));
}

function paceText(p) {
  if (!p) return "—";
  return p.perMinute ? p.perMinute.toFixed(p.perMinute < 10 ? 1 : 0) + "/min" : "—";
}

// campaignActions: suspend/resume, retry failed, cancel (two-step).
const confirming = new Set();
function campaignActions(c, rerender) {
  const name = encodeURIComponent(c.name);
  const box = h("div", { class: "actions" });
  if (c.phase === "Deleting") {
    // Its run records are being removed; it takes no changes meanwhile.
    box.append(h("span", { class: "muted", "data-action": "deleting" }, "being deleted (its run records go in batches; see Status)"));
    return box;
  }
  if (c.suspended) {
    box.append(h("button", { "data-action": "resume", onclick: (e) => act(e.target, "POST", `/campaigns/${name}/resume`, () => `Resumed ${c.name}`) }, "Resume"));
  } else if (c.phase !== "Succeeded") {
    box.append(h("button", { "data-action": "suspend", onclick: (e) => act(e.target, "POST", `/campaigns/${name}/suspend`, () => `Suspended ${c.name}: running runs finish, no new ones start`) }, "Suspend"));
  }
  if (c.runs.failed > 0) {
    box.append(h("button", { "data-action": "retry", onclick: (e) => act(e.target, "POST", `/campaigns/${name}/retry`, (o) => o.message) }, `Retry ${fmtInt(c.runs.failed)} failed`));
  }
  if (confirming.has(c.name)) {
    box.append(h("span", { class: "confirm" }, "Delete the campaign, its queued runs and run records? Its results are kept (simswarm results list / prune)."),
      h("button", { class: "danger", "data-action": "confirm-cancel", onclick: (e) => { confirming.delete(c.name); act(e.target, "DELETE", `/campaigns/${name}`, () => `Cancelled ${c.name}`); } }, "Yes, cancel"),
      h("button", { onclick: () => { confirming.delete(c.name); rerender(); } }, "No"));
  } else {
    box.append(h("button", { class: "danger", "data-action": "cancel", onclick: () => { confirming.add(c.name); rerender(); } }, "Cancel"));
  }
  return box;
}

function indexNote(ix) {
  if (!ix) return "";
  if (!ix.at) return ix.scanning ? "Reading the run records for run lists and throughput…" : (ix.error ? "Run index failed: " + ix.error : "");
  return `Run lists as of ${new Date(ix.at).toLocaleTimeString()} (${fmtInt(ix.runs)} runs, read in ${fmtMS(ix.costMs)})` + (ix.error ? " — last refresh failed: " + ix.error : "");
}

// ---- pages -----------------------------------------------------------------

function overviewPage() {
  const render = (d) => {
    const main = document.getElementById("main");
    const t = d.totals, w = d.workers;
    const rows = d.campaigns.map((c) => h("tr", { "data-campaign": c.name },
      h("td", {}, h("a", { href: "/ui/campaigns/" + encodeURIComponent(c.name) }, c.name)),
      h("td", {}, badge(c.phase)),
      h("td", {}, progressBar(c)),
      h("td", { class: "num" }, fmtInt(c.runs.running)), h("td", { class: "num" }, fmtInt(c.runs.queued)),
      h("td", { class: "num" }, fmtInt(c.runs.pending)), h("td", { class: "num" }, fmtInt(c.runs.failed)),
      h("td", { class: "num" }, paceText(c.pace)),
      h("td", { class: "num", title: c.pace.etaBasis ? "from " + c.pace.etaBasis : "" }, fmtDur(c.pace.etaSeconds)),
      h("td", { class: "msg" }, c.reason ? c.reason + ": " + c.message : "")));
    main.replaceChildren(
      h("h1", {}, "Campaigns"),
      h("div", { class: "cards" },
        card("campaigns", fmtInt(d.campaigns.length)), card("runs", fmtInt(t.total)),
        card("running", fmtInt(t.running)), card("succeeded", fmtInt(t.succeeded)), card("failed", fmtInt(t.failed)),
        card("runners", fmtInt(w.runners) + (w.builders ? " + " + w.builders + " builder" + (w.builders > 1 ? "s" : "") : "")),
        card("slots busy", fmtInt(w.busySlots) + " / " + fmtInt(w.slots))),
      d.campaigns.length ? h("table", { id: "campaigns" },
        h("thead", {}, h("tr", {}, ["Campaign", "Phase", "Progress", "Running", "Queued", "Pending", "Failed", "Throughput", "ETA", "Status"].map((x, i) => h("th", { class: i >= 3 && i <= 8 ? "num" : "" }, x)))),
        h("tbody", {}, rows)) : h("p", { class: "muted" }, "No campaigns. Apply one with simswarm apply -f campaign.yaml."),
      h("p", { class: "muted" }, indexNote(d.index), w.error ? " Workers: " + w.error : ""));
  };
  live({ view: "overview" }, render);
}

function card(k, v) { return h("div", { class: "card" }, h("div", { class: "v" }, v), h("div", { class: "k" }, k)); }

function campaignPage(name) {
  const q = new URLSearchParams(location.search);
  const state = { state: q.get("state") || "", after: parseInt(q.get("after") || "-1", 10), history: [] };
  let last = null;
  const open = () => {
    const p = { view: "campaign", name, after: state.after, limit: 50 };
    if (state.state) p.state = state.state;
    const u = new URLSearchParams();
    if (state.state) u.set("state", state.state);
    if (state.after >= 0) u.set("after", state.after);
    history.replaceState(null, "", location.pathname + (u.toString() ? "?" + u : ""));
    live(p, render, gone);
  };
  // gone shows that the campaign no longer exists (e.g. just cancelled).
  const gone = (err) => {
    if (!err.notFound) return false;
    if (source) source.close();
    const liveEl = document.getElementById("live");
    liveEl.textContent = "";
    liveEl.className = "live";
    document.getElementById("main").replaceChildren(h("h1", {}, name, " ", badge("Deleted")),
      h("p", { id: "gone" }, `Campaign ${name} does not exist (any more): it was cancelled or never created. A cancelled campaign's results are kept: simswarm results list shows them, results pull --uid fetches them.`),
      h("p", {}, h("a", { href: "/ui/" }, "← All campaigns")));
    return true;
  };
  const render = (d) => {
    last = d;
    const c = d.campaign, r = d.runs, main = document.getElementById("main");
    const counts = { "": c.runs.total, Pending: c.runs.pending, Queued: c.runs.queued, Running: c.runs.running, Succeeded: c.runs.succeeded, Failed: c.runs.failed };
    if (c.runs.skipped) counts.Skipped = c.runs.skipped;
    const tabs = h("div", { class: "tabs", role: "tablist" }, Object.entries(counts).map(([s, n]) =>
      h("button", { class: state.state === s ? "on" : "", "data-state": s || "all",
        onclick: () => { state.state = s; state.after = -1; state.history = []; open(); } }, (s || "All") + " " + fmtInt(n))));
    const rows = r.items.map((x) => h("tr", { "data-run": x.run },
      h("td", { class: "num" }, x.run), h("td", { class: "vars mono" }, x.vars || "—"), h("td", {}, badge(x.state)), h("td", { class: "num" }, x.attempts),
      h("td", {}, x.worker || "—"), h("td", { class: "num" }, x.state === "Succeeded" || x.state === "Failed" ? x.exitCode : "—"),
      h("td", { class: "num" }, fmtMS(x.durationMs)), h("td", {}, ago(x.updatedAt, d.at)),
      h("td", { class: "msg" }, x.message || ""),
      h("td", {}, h("button", { onclick: () => runDrawer(c, x.run) }, x.state === "Succeeded" ? "Results" : "Details"))));
    main.replaceChildren(
      h("h1", {}, c.name, " ", badge(c.phase)),
      campaignTabs(c.name, "runs"),
      h("div", { class: "actions" }, campaignActions(c, () => render(last))),
      h("h2", {}, "Progress"), progressBar(c),
      h("div", { class: "cards" }, card("throughput", paceText(c.pace)), card("eta", fmtDur(c.pace.etaSeconds)),
        card("mean run", fmtMS(Math.round(c.pace.meanDurationMs))), card("succeeded", fmtInt(c.runs.succeeded)), card("failed", fmtInt(c.runs.failed)),
        ...(c.points ? [card("skipped", fmtInt(c.runs.skipped || 0)), card("points converged", `${fmtInt(c.points.converged)} / ${fmtInt(c.points.total)}`)] : []),
        ...(c.runs.reused ? [card("reused", fmtInt(c.runs.reused))] : [])),
      c.points && c.points.message ? h("p", { class: "error", id: "stop-points" }, c.points.message) : "",
      h("div", { class: "grid2" },
        kv("source", c.source), kv("program", (c.program || []).join(" ")), kv("config", c.config || "General"),
        kv("runs", c.runsFilter || "every run of the config"), kv("priority", c.priority), kv("parallelism", c.parallelism || "unbounded"),
        kv("timeout", c.timeout || "—"), kv("retries", c.retries === undefined ? "2" : c.retries),
        kv("build", (c.build.phase || "—") + (c.build.cacheHit ? " (cache hit)" : "") + (c.build.message ? ": " + c.build.message : "")),
        kv("started", c.startTime ? new Date(c.startTime).toLocaleString() : "—"),
        kv("completed", c.completionTime ? new Date(c.completionTime).toLocaleString() : "—"),
        kv("generation", c.generation + " (observed " + c.observedGeneration + ")")),
      h("h2", {}, "Conditions"),
      h("table", {}, h("thead", {}, h("tr", {}, ["Type", "Status", "Reason", "Message", "Since"].map((x) => h("th", {}, x)))),
        h("tbody", {}, (c.conditions || []).map((k) => h("tr", {}, h("td", {}, k.type), h("td", {}, badge(k.status)), h("td", {}, k.reason || ""),
          h("td", { class: "msg" }, k.message || ""), h("td", {}, ago(k.lastTransitionTime, d.at)))))),
      h("h2", {}, "Runs"), tabs,
      r.indexed ? h("div", {},
        h("table", { id: "runs" }, h("thead", {}, h("tr", {}, ["Run", "Iteration variables", "State", "Attempts", "Worker", "Exit", "Duration", "Updated", "Message", ""].map((x, i) => h("th", { class: [0, 3, 5, 6].includes(i) ? "num" : "" }, x)))),
          h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 10, class: "muted" }, "No runs in this state.")))),
        h("div", { class: "pager" },
          h("button", { disabled: !state.history.length, onclick: () => { state.after = state.history.pop(); open(); } }, "← Previous"),
          h("button", { "data-action": "next-page", disabled: r.next < 0, onclick: () => { state.history.push(state.after); state.after = r.next; open(); } }, "Next →"),
          h("span", { class: "muted" }, `${fmtInt(r.matching)} run${r.matching === 1 ? "" : "s"} in the run list` + (r.items.length ? `, showing ${r.items[0].run}–${r.items[r.items.length - 1].run}` : "") +
            (d.index && d.index.at ? ` (as of ${new Date(d.index.at).toLocaleTimeString()})` : "")))) :
        h("p", { class: "muted" }, "The run list appears once the run records were read."),
      h("p", { class: "muted" }, indexNote(d.index)));
  };
  open();
}

function kv(k, v) { return h("div", {}, h("span", { class: "k" }, k), h("span", {}, v)); }

async function runDrawer(c, run) {
  const d = document.getElementById("drawer");
  d.hidden = false;
  d.replaceChildren(h("button", { class: "close", onclick: () => { d.hidden = true; } }, "Close"), h("h2", {}, `${c.name} run ${run}`), h("p", { class: "muted" }, "Loading…"));
  try {
    const rec = await api("GET", `/campaigns/${encodeURIComponent(c.name)}/runs/${run}`);
    const files = rec.files || [];
    d.replaceChildren(
      h("button", { class: "close", onclick: () => { d.hidden = true; } }, "Close"),
      h("h2", {}, `${c.name} run ${run} `, badge(rec.state)),
      h("dl", {},
        h("dt", {}, "attempts"), h("dd", {}, rec.attempts),
        h("dt", {}, "last worker"), h("dd", {}, rec.worker || "—"),
        ...(rec.reusedFrom ? [h("dt", {}, "reused from"), h("dd", { class: "mono" }, `${rec.reusedFrom.campaign} run ${rec.reusedFrom.run}`)] : []),
        h("dt", {}, "exit code"), h("dd", {}, rec.exitCode),
        h("dt", {}, "duration"), h("dd", {}, fmtMS(rec.durationMs) + (rec.cpuMs ? ` (CPU ${fmtMS(rec.cpuMs)})` : "")),
        h("dt", {}, "started"), h("dd", {}, rec.startedAt ? new Date(rec.startedAt).toLocaleString() : "—"),
        h("dt", {}, "finished"), h("dd", {}, rec.finishedAt ? new Date(rec.finishedAt).toLocaleString() : "—"),
        h("dt", {}, "message"), h("dd", {}, rec.message || "—")),
      h("h2", {}, "Result files"),
      files.length ? h("ul", { id: "result-files" }, files.map((f) => h("li", {},
        h("a", { href: `${API}/campaigns/${encodeURIComponent(c.name)}/results/${run}/${encodeURIComponent(f.name)}`, download: f.name }, f.name),
        " ", h("span", { class: "muted" }, fmtBytes(f.size) + " · sha256 " + f.sha256.slice(0, 12))))) :
        h("p", { class: "muted" }, "No results stored (yet)."),
      h("h2", {}, "stderr (tail)"),
      rec.stderrTail ? h("pre", { class: "tail" }, rec.stderrTail) : h("p", { class: "muted" }, "empty"));
  } catch (e) {
    d.append(h("p", { class: "error" }, e.message));
  }
}

const openTails = new Set();
function queuesPage() {
  let last = null;
  const render = (d) => {
    last = d;
    const main = document.getElementById("main");
    main.replaceChildren(
      h("h1", {}, "Queues & workers"),
      d.queueError ? h("p", { class: "error" }, d.queueError) : "",
      h("table", { id: "queues" }, h("thead", {}, h("tr", {}, ["Queue", "Pending", "Active", "Scheduled", "Retry", "Archived", "Processed today", "Failed today", "Latency"].map((x, i) => h("th", { class: i ? "num" : "" }, x)))),
        h("tbody", {}, d.queues.map((q) => h("tr", { "data-queue": q.name }, h("td", {}, q.name, q.paused ? " (paused)" : ""),
          ...[q.pending, q.active, q.scheduled, q.retry, q.archived, q.processedToday, q.failedToday].map((n) => h("td", { class: "num" }, fmtInt(n))),
          h("td", { class: "num" }, fmtMS(q.latencyMs)))))),
      h("h2", {}, "Campaigns"),
      h("table", { id: "manage" }, h("thead", {}, h("tr", {}, ["Campaign", "Phase", "Progress", "Failed", "Actions"].map((x) => h("th", {}, x)))),
        h("tbody", {}, d.campaigns.map((c) => h("tr", { "data-campaign": c.name },
          h("td", {}, h("a", { href: "/ui/campaigns/" + encodeURIComponent(c.name) }, c.name)), h("td", {}, badge(c.phase)),
          h("td", {}, progressBar(c)), h("td", { class: "num" }, fmtInt(c.runs.failed)), h("td", {}, campaignActions(c, () => render(last))))))),
      h("h2", {}, `Workers (${fmtInt(d.workerCount)}: ${fmtInt(d.totals.busySlots)} of ${fmtInt(d.totals.slots)} slots busy)`),
      d.totals.error ? h("p", { class: "error" }, d.totals.error) : "",
      h("table", { id: "workers" }, h("thead", {}, h("tr", {}, ["Worker", "Role", "Busy", "Current task", "Since"].map((x, i) => h("th", { class: i === 2 ? "num" : "" }, x)))),
        h("tbody", {}, d.workers.map((w) => h("tr", { "data-worker": w.name }, h("td", { class: "mono" }, w.name), h("td", {}, w.role),
          h("td", { class: "num" }, `${w.busy} / ${w.slots}`), h("td", {}, w.tasks.length ? w.tasks.join(", ") : h("span", { class: "muted" }, w.waiting || "idle")),
          h("td", {}, w.tasks.length ? ago(w.since, d.at) : "—"))))),
      d.workers.length < d.workerCount ? h("p", { class: "muted" }, `${fmtInt(d.workerCount - d.workers.length)} more not shown.`) : "",
      h("h2", {}, "Recent failures"),
      d.failures.length ? h("table", { id: "failures" }, h("thead", {}, h("tr", {}, ["When", "Campaign", "Run", "Attempts", "Exit", "Worker", "Message / stderr"].map((x) => h("th", {}, x)))),
        h("tbody", {}, d.failures.map((f) => {
          const key = f.campaign + "/" + f.uid + "/" + f.run;
          const det = h("details", { open: openTails.has(key), ontoggle: (e) => { e.target.open ? openTails.add(key) : openTails.delete(key); } },
            h("summary", {}, f.message || "stderr"), h("pre", { class: "tail" }, f.stderrTail || "(empty)"));
          return h("tr", {}, h("td", {}, ago(f.updatedAt, d.at)), h("td", {}, h("a", { href: "/ui/campaigns/" + encodeURIComponent(f.campaign) + "?state=Failed" }, f.campaign)),
            h("td", { class: "num" }, f.run), h("td", { class: "num" }, f.attempts), h("td", { class: "num" }, f.exitCode), h("td", { class: "mono" }, f.worker || "—"), h("td", { class: "msg" }, det));
        }))) : h("p", { class: "muted" }, d.index && d.index.at ? "No failed runs." : indexNote(d.index)),
      h("h2", {}, "Builds"),
      d.builds.length ? h("table", { id: "builds" }, h("thead", {}, h("tr", {}, ["Key", "State", "Worker", "Duration", "Updated", "Log"].map((x) => h("th", {}, x)))),
        h("tbody", {}, d.builds.map((b) => h("tr", {}, h("td", { class: "mono" }, b.key.slice(0, 12)), h("td", {}, badge(b.state)), h("td", { class: "mono" }, b.worker || "—"),
          h("td", { class: "num" }, fmtMS(b.durationMs)), h("td", {}, ago(b.updatedAt, d.at)),
          h("td", { class: "msg" }, b.logTail ? h("details", {}, h("summary", {}, "log tail"), h("pre", { class: "tail" }, b.logTail)) : ""))))) :
        h("p", { class: "muted" }, "No builds yet."),
      h("p", { class: "muted" }, indexNote(d.index)));
  };
  live({ view: "queues" }, render);
}

function swarmPage() {
  const render = (d) => {
    const main = document.getElementById("main");
    if (!d.available) {
      main.replaceChildren(h("h1", {}, "Swarm"), h("p", { class: "banner", id: "no-docker" }, d.reason));
      return;
    }
    const o = d.observation;
    const byNode = {};
    for (const t of o.tasks) (byNode[t.nodeId] = byNode[t.nodeId] || []).push(t);
    const services = [...new Set(o.tasks.map((t) => t.service))].sort();
    setPalette(o.services.map((s) => s.name).concat(services));
    main.replaceChildren(
      h("h1", {}, "Swarm ", h("span", { class: "muted" }, `stack ${o.stack}: ${o.nodes.length} node${o.nodes.length === 1 ? "" : "s"}, ${o.tasks.length} tasks`)),
      h("div", { class: "legend" }, services.map((s) => h("span", {}, colour(h("span", { class: "sw" }), s), s))),
      h("div", { class: "nodes", id: "nodes" }, o.nodes.map((n) => h("div", { class: "node" + (n.state !== "ready" ? " down" : ""), "data-node": n.hostname },
        h("h3", {}, n.hostname, badge(n.role), n.leader ? badge("leader") : "", badge(n.availability), badge(n.state)),
        h("div", { class: "res" }, `${(n.nanoCPUs / 1e9).toFixed(n.nanoCPUs % 1e9 ? 1 : 0)} CPUs · ${fmtBytes(n.memoryBytes)}` + (n.addr ? " · " + n.addr : "")),
        h("div", { class: "chips" }, (byNode[n.id] || []).map((t) => colour(h("span", { class: "chip" + (t.state !== "running" ? " notrunning" : ""),
          title: `${t.service}${t.slot ? "." + t.slot : ""}: ${t.state}${t.error ? " — " + t.error : t.message ? " — " + t.message : ""}` },
          t.service.replace(o.stack + "_", "") + (t.slot ? "." + t.slot : "")), t.service)))))),
      h("h2", {}, "Services"),
      h("table", { id: "services" }, h("thead", {}, h("tr", {}, ["Service", "Mode", "Desired", "Running", "Image", ""].map((x, i) => h("th", { class: i === 2 || i === 3 ? "num" : "" }, x)))),
        h("tbody", {}, o.services.map((s) => h("tr", { "data-service": s.name }, h("td", {}, colour(h("span", { class: "sw" }), s.name), s.name),
          h("td", {}, s.mode), h("td", { class: "num" }, s.desired), h("td", { class: "num" + (s.running < s.desired ? " error" : "") }, s.running),
          h("td", { class: "mono" }, s.image || ""), h("td", { class: "muted" }, s.stack ? "" : "not in the stack"))))),
      h("h2", {}, "Stack reconciler"),
      h("p", {}, o.lastPass && o.lastPass.time ? `Last pass ${ago(o.lastPass.time, d.at)}, took ${fmtMS(Math.round(o.lastPass.duration / 1e6))}, ${o.lastPass.writes} change${o.lastPass.writes === 1 ? "" : "s"}` + (o.lastPass.error ? " — failed: " + o.lastPass.error : "") :
        "No pass yet on this controller (passes run on the leader)."),
      o.actions.length ? h("table", { id: "actions" }, h("thead", {}, h("tr", {}, ["When", "What", "Why", "Error"].map((x) => h("th", {}, x)))),
        h("tbody", {}, o.actions.map((a) => h("tr", {}, h("td", {}, ago(a.time, d.at)), h("td", {}, a.what), h("td", { class: "msg" }, a.why), h("td", { class: "error" }, a.error || ""))))) :
        h("p", { class: "muted" }, "Nothing to do lately: the stack is as desired."));
  };
  live({ view: "swarm" }, render);
}

// ---- router ----------------------------------------------------------------

function route() {
  const p = location.pathname;
  let nav = "overview";
  let m;
  if ((m = p.match(/^\/ui\/campaigns\/([^/]+)$/))) campaignPage(decodeURIComponent(m[1]));
  else if ((m = p.match(/^\/ui\/campaigns\/([^/]+)\/results$/))) resultsPage(decodeURIComponent(m[1]));
  else if (p === "/ui/queues") { nav = "queues"; queuesPage(); }
  else if (p === "/ui/swarm") { nav = "swarm"; swarmPage(); }
  else overviewPage();
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
}

document.addEventListener("DOMContentLoaded", route);
