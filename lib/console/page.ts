/**
 * The status page (GET /v1/console): one self-contained HTML document, inline CSS and a small inline
 * script, no external fetch. The document itself carries no data: its script asks GET
 * /v1/console/data (same origin, the browser's Basic credentials) every `refresh_seconds` and builds
 * every element from the JSON with textContent, so nothing an agent, GSE or an alert says can
 * become markup. The Content-Security-Policy allows exactly this script and this style (by hash)
 * and connections to this origin.
 *
 * At the top, a strip says how each dependency is (GSE, DynamoDB, SNS/SQS): from the answer's
 * `dependencies`, from the `data` of its 503 when DynamoDB could not be read, and, when the answer
 * is another server error with no report, DynamoDB failing (the data's reads are DynamoDB's) and
 * the others unknown. While GSE fails, the fleet's tiles are labelled with when GSE last answered
 * for every agent (`gse_answered_at`), not presented as current.
 *
 * Its one set of actions: a caller holding `operator` (the data's viewer is not read-only) gets a
 * rollout's pause, resume and abort buttons, which POST JSON to /v1/console/rollouts/{id}/{action}
 * (lib/console/rollout-action.ts); the answer is shown beside the next refresh's line.
 */
import { createHash } from "node:crypto";

const STYLE = `
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f6f7f9; --card:#fff; --ok:#12805c; --warn:#b54708; --bad:#c01048; --info:#175cd3; --pending:#98a2b3; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: #101828; color: #fff; }
header h1 { margin: 0; font-size: 16px; font-weight: 600; }
header .status { font-size: 12px; color: #d0d5dd; }
header .status.bad { color: #fda29b; }
header button { margin-left: auto; font: inherit; color: #fff; background: #344054; border: 0; border-radius: 4px; padding: 4px 10px; cursor: pointer; }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; padding: 16px 20px; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; min-width: 0; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
h2 .count { text-transform: none; letter-spacing: 0; color: var(--fg); font-weight: 600; margin-left: 6px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; }
.tile { flex: 1 1 90px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.tile .n { font-size: 22px; font-weight: 600; }
.tile .l { color: var(--muted); font-size: 12px; }
.tile.alive .n { color: var(--ok); } .tile.lost .n, .tile.failed .n { color: var(--bad); } .tile.suspect .n, .tile.outdated .n { color: var(--warn); }
.tile.unknown .n, .tile.pending .n { color: var(--muted); }
.note { color: var(--muted); font-size: 12px; margin-top: 6px; }
.deps { display: flex; flex-wrap: wrap; gap: 10px; padding: 16px 20px 0; }
.dep { flex: 1 1 240px; min-width: 0; background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--pending); border-radius: 6px; padding: 8px 12px; }
.dep .name { font-weight: 600; margin-right: 6px; }
.dep .state { font-weight: 600; color: var(--muted); }
.dep .note { margin-top: 2px; overflow-wrap: anywhere; }
.dep.ok { border-left-color: var(--ok); } .dep.ok .state { color: var(--ok); }
.dep.failing { border-left-color: var(--bad); background: #fff1f3; } .dep.failing .state { color: var(--bad); }
.stale-label { color: var(--bad); font-weight: 600; margin-bottom: 8px; }
.tiles.stale .tile { border-style: dashed; }
.tiles.stale .tile .n { color: var(--muted); }
.empty { color: var(--muted); padding: 6px 0; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-weight: 500; color: var(--muted); border-bottom: 1px solid var(--line); padding: 3px 6px; white-space: nowrap; }
td { border-bottom: 1px solid var(--line); padding: 3px 6px; vertical-align: top; overflow-wrap: anywhere; }
td.nowrap, .when { white-space: nowrap; }
tr.hl td { background: #fff1f3; }
tr.warn td { background: #fffaeb; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; font-weight: 600; background: #f2f4f7; color: var(--fg); white-space: nowrap; }
.badge.critical, .badge.FAILED, .badge.ROLLBACK_FAILED { background: #fee4e2; color: var(--bad); }
.badge.warning, .badge.ROLLED_BACK, .badge.PENDING { background: #fef0c7; color: var(--warn); }
.badge.APPLIED { background: #d1fadf; color: var(--ok); }
.badge.info, .badge.RUNNING, .badge.APPLYING { background: #d1e9ff; color: var(--info); }
.badge.SUCCEEDED, .badge.ok { background: #d1fadf; color: var(--ok); }
.badge.ABORTED, .badge.CANCELLED, .badge.tripped { background: #fee4e2; color: var(--bad); }
.badge.PAUSED, .badge.BAKING, .badge.SCHEDULED, .badge.ROLLING_BACK { background: #fef0c7; color: var(--warn); }
.actions button { font: inherit; font-size: 12px; margin: 0 4px 2px 0; padding: 1px 8px; border: 1px solid var(--line); border-radius: 4px; background: var(--card); cursor: pointer; }
.actions button.abort { color: var(--bad); border-color: #fda29b; }
.actions button:disabled { opacity: .5; cursor: default; }
.bar { position: relative; height: 8px; background: #f2f4f7; border-radius: 4px; overflow: hidden; min-width: 80px; }
.bar span { position: absolute; top: 0; bottom: 0; left: 0; background: var(--info); }
.bar span.failed { background: var(--bad); }
.bar span.outdated { background: var(--warn); }
svg { display: block; width: 100%; height: 180px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg text { fill: var(--muted); font-size: 10px; }
svg polyline { fill: none; stroke-width: 2; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
`;

/** Renders /v1/console/data into the sections below and asks again every `refresh_seconds`. */
const SCRIPT = `
"use strict";
(function () {
  var dataUrl = location.pathname.replace(/\\/+$/, "") + "/data";
  // Series drawn on the chart, in drawing order, with their colours (CSS variables).
  var SERIES = [["alive", "--ok"], ["lost", "--bad"], ["suspect", "--warn"], ["unknown", "--pending"], ["pending", "--info"]];
  // The strip's dependencies: key in the data, name shown, what its time means.
  var DEPENDENCIES = [["gse", "GSE", "last poll"], ["dynamodb", "DynamoDB", "checked"], ["sns", "SNS/SQS", "checked"]];
  var timer = null;
  var refreshSeconds = 15;
  // When this page first saw /v1/console/data answer a server error, until it answers again.
  var dataFailingSince = null;
  // What the last rollout action answered: shown beside the next refresh's line, once.
  var actionNote = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, children) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    });
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    return node;
  }
  function fill(id, nodes) {
    var target = $(id);
    target.replaceChildren.apply(target, nodes);
  }
  function utc(iso) {
    if (!iso) return "never";
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 16).replace("T", " ") + "Z";
  }
  function ago(iso) {
    var ms = Date.now() - new Date(iso).getTime();
    if (!isFinite(ms)) return "";
    if (ms < 90000) return "just now";
    if (ms < 5400000) return Math.round(ms / 60000) + " min ago";
    if (ms < 129600000) return Math.round(ms / 3600000) + " h ago";
    return Math.round(ms / 86400000) + " d ago";
  }
  function when(iso) { var s = el("span", "when", [utc(iso)]); s.title = ago(iso); return s; }
  function table(headers, rows, empty) {
    if (!rows.length) return [el("div", "empty", [empty])];
    var head = el("tr", "", headers.map(function (h) { return el("th", "", [h]); }));
    return [el("table", "", [el("thead", "", [head]), el("tbody", "", rows)])];
  }
  function row(cls, cells) {
    return el("tr", cls, cells.map(function (c) { return el("td", "", [c]); }));
  }
  function bar(share, cls) {
    var inner = el("span", cls || "");
    inner.style.width = Math.round(Math.max(0, Math.min(1, share)) * 100) + "%";
    return el("div", "bar", [inner]);
  }
  function badge(text, cls) { return el("span", "badge " + (cls || text), [text]); }
  function tile(cls, n, label) { return el("div", "tile " + cls, [el("div", "n", [n]), el("div", "l", [label])]); }

  function renderDependencies(deps) {
    fill("deps", DEPENDENCIES.map(function (d) {
      var dep = deps[d[0]] || { state: "unknown", detail: "not reported", checked_at: null, since: null };
      var line = dep.detail;
      if (dep.checked_at) line += " · " + d[2] + " " + utc(dep.checked_at);
      if (dep.since && dep.state === "failing") line += " · failing since " + utc(dep.since) + " (" + ago(dep.since) + ")";
      var node = el("div", "dep " + dep.state, [el("span", "name", [d[1]]), el("span", "state", [dep.state]), el("div", "note", [line])]);
      node.id = "dep-" + d[0];
      node.setAttribute("data-state", dep.state);
      return node;
    }));
  }

  // The strip when /v1/console/data answered an error: its own report (a 503 when DynamoDB could not
  // be read), else, for a server error, DynamoDB failing (the data's reads are all DynamoDB's).
  function unavailable(status, body) {
    var reported = body && body.data && body.data.dependencies;
    var unknown = { state: "unknown", detail: "not known: the status data did not arrive", checked_at: null, since: null };
    if (status < 500) return { gse: unknown, dynamodb: unknown, sns: unknown };
    if (dataFailingSince === null) dataFailingSince = new Date().toISOString();
    if (reported && reported.dynamodb) {
      var dynamodb = Object.assign({}, reported.dynamodb, { since: reported.dynamodb.since || dataFailingSince });
      return Object.assign({}, reported, { dynamodb: dynamodb });
    }
    var why = dataUrl + " answered HTTP " + status + (body && body.message ? " (" + body.message + ")" : "") + ": the status data, read from DynamoDB, is unavailable";
    return { gse: unknown, dynamodb: { state: "failing", detail: why, checked_at: new Date().toISOString(), since: dataFailingSince }, sns: unknown };
  }

  function failingNames(deps) {
    return DEPENDENCIES.filter(function (d) { return deps[d[0]] && deps[d[0]].state === "failing"; }).map(function (d) { return d[1]; });
  }

  function renderFleet(fleet) {
    if (!fleet) {
      fill("fleet", [el("div", "empty", ["No heartbeat poll has finished yet."])]);
      $("fleet").setAttribute("data-as-of", "");
      return;
    }
    var s = fleet.by_status;
    // GSE failed calls of the last poll: the counts rest on what it last answered, labelled so.
    var stale = fleet.gse_failed_chunks > 0;
    var asOf = stale ? fleet.gse_answered_at : fleet.as_of;
    var nodes = [];
    if (stale) {
      nodes.push(el("div", "stale-label", [asOf
        ? "GSE failing: counts as of " + utc(asOf) + " (" + ago(asOf) + "), when it last answered for every agent"
        : "GSE failing: counts not current, it has not answered for every agent yet"]));
    }
    nodes.push(
      el("div", stale ? "tiles stale" : "tiles", [
        tile("agents", fleet.agents, "agents"),
        tile("alive", s.alive || 0, "alive"),
        tile("suspect", fleet.suspect, "suspect"),
        tile("lost", s.lost || 0, "lost"),
        tile("unknown", s.unknown || 0, "unknown to GSE"),
        tile("pending", s.pending || 0, "pending"),
        tile("outdated", fleet.outdated, fleet.min_version ? "below " + fleet.min_version : "outdated"),
      ]),
      el("div", "note", [stale
        ? "In the last poll, at " + utc(fleet.as_of) + ", " + fleet.gse_failed_chunks + " of " + fleet.gse_calls + " GSE calls failed: the agents they asked about kept the state GSE last gave them, and are counted with it."
        : "As of the poll at " + utc(fleet.as_of) + " (" + ago(fleet.as_of) + ")."]),
    );
    fill("fleet", nodes);
    $("fleet").setAttribute("data-as-of", asOf || "");
  }

  function renderChart(history) {
    var points = history.points;
    var box = $("chart");
    var W = 800, H = 180, L = 40, R = 8, T = 8, B = 20;
    var now = Date.now(), from = now - history.hours * 3600000;
    var max = 1;
    points.forEach(function (p) { SERIES.forEach(function (s) { max = Math.max(max, p[s[0]]); }); });
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img", "aria-label": "agents by status over the last " + history.hours + " hours" });
    function x(t) { return L + (Math.max(from, Math.min(now, t)) - from) / (now - from) * (W - L - R); }
    function y(v) { return T + (1 - v / max) * (H - T - B); }
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      chart.appendChild(svg("line", { "class": "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      var label = svg("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end" });
      label.textContent = String(v);
      chart.appendChild(label);
    });
    for (var h = 0; h <= history.hours; h += 6) {
      var t = from + h * 3600000;
      var tick = svg("text", { x: x(t), y: H - 4, "text-anchor": h === 0 ? "start" : h === history.hours ? "end" : "middle" });
      tick.textContent = h === history.hours ? "now" : utc(new Date(t).toISOString()).slice(11, 16);
      chart.appendChild(tick);
    }
    var inWindow = points.filter(function (p) { return new Date(p.at).getTime() >= from; });
    SERIES.forEach(function (s) {
      if (!inWindow.length) return;
      var xy = inWindow.map(function (p) { return [x(new Date(p.at).getTime()), y(p[s[0]])]; });
      var line = svg("polyline", { points: xy.map(function (c) { return c[0].toFixed(1) + "," + c[1].toFixed(1); }).join(" "), "data-series": s[0] });
      line.style.stroke = "var(" + s[1] + ")";
      chart.appendChild(line);
      // A few points are dots as well: one point alone draws no line.
      if (xy.length <= 48) xy.forEach(function (c) {
        var dot = svg("circle", { cx: c[0].toFixed(1), cy: c[1].toFixed(1), r: 2.5 });
        dot.style.fill = "var(" + s[1] + ")";
        chart.appendChild(dot);
      });
    });
    var last = inWindow.length ? inWindow[inWindow.length - 1] : null;
    var legend = el("div", "legend", SERIES.map(function (s) {
      var swatch = el("i");
      swatch.style.background = "var(" + s[1] + ")";
      return el("span", "", [swatch, s[0] + (last ? " " + last[s[0]] : "")]);
    }));
    var nodes = [chart, legend];
    if (!points.length) nodes.push(el("div", "note", ["No snapshots yet: the heartbeat writes one every " + history.every_minutes + " minutes."]));
    box.replaceChildren.apply(box, nodes);
  }

  function renderVersions(fleet) {
    if (!fleet || !fleet.by_version.length) { fill("versions", [el("div", "empty", ["No versions reported yet."])]); return; }
    var top = fleet.by_version[0].count || 1;
    var rows = fleet.by_version.map(function (v) {
      return row(v.outdated ? "warn" : "", [el("code", "", [v.version]), String(v.count), bar(v.count / top, v.outdated ? "outdated" : ""), v.outdated ? badge("outdated", "warning") : ""]);
    });
    if (fleet.other_versions.versions) rows.push(row("", [fleet.other_versions.versions + " other versions", String(fleet.other_versions.agents), "", ""]));
    fill("versions", table(["version", "agents", "", ""], rows, ""));
  }

  function renderLost(lost) {
    $("lost-count").textContent = lost.total === null ? "" : String(lost.total);
    var rows = lost.agents.map(function (a) {
      var state = a.status_code === undefined ? "" : (a.status_class ? a.status_class + " (" + a.status_code + ")" : String(a.status_code));
      return row("hl", [el("code", "", [a.agent_id]), when(a.last_seen), when(a.since), a.version || "", state]);
    });
    var nodes = table(["agent", "last seen", "lost since", "version", "GSE status"], rows, "No lost agents.");
    if (lost.total !== null && lost.total > lost.agents.length) nodes.push(el("div", "note", ["Showing the " + lost.agents.length + " most recently lost of " + lost.total + "; the CLI lists them all: gse-control agents --status lost"]));
    else if (!lost.complete) nodes.push(el("div", "note", ["The registry is larger than one read: more agents may be lost."]));
    fill("lost", nodes);
  }

  function renderAlerts(alerts) {
    $("alerts-count").textContent = String(alerts.length);
    fill("alerts", table(["time", "", "kind", "what"], alerts.map(function (a) {
      var what = el("div", "", [a.message || a.subject]);
      if (a.object) what.appendChild(el("div", "note", [a.object]));
      return row(a.severity === "critical" ? "hl" : a.severity === "warning" ? "warn" : "", [when(a.at), badge(a.severity), el("code", "", [a.kind]), what]);
    }), "No alerts in the last days."));
  }

  function renderCommands(commands) {
    $("commands-count").textContent = String(commands.length);
    fill("commands", table(["command", "targets", "progress", "sent / failed / waiting", "started"], commands.map(function (c) {
      var progress = el("div", "", [bar(c.progress, c.counts.FAILED ? "failed" : ""), el("div", "note", [Math.round(c.progress * 100) + "% · batches " + c.batches.sent + "/" + c.batches.total])]);
      return row("", [el("code", "", [c.message_id]), String(c.targets), progress, (c.counts.SENT + c.counts.REPLIED) + " / " + c.counts.FAILED + " / " + c.counts.PENDING, el("div", "", [when(c.created_at), el("div", "note", [c.created_by])])]);
    }), "No command is running."));
  }

  // A rollout's action, by its own route for the page (same origin, the browser's Basic credentials,
  // a JSON body: a form on another site cannot send one); then the page refreshes.
  function rolloutAction(r, action, button) {
    if (action === "abort" && !window.confirm("Abort rollout " + r.rollout_id + "? Its undo, if any, goes to the agents already touched.")) return;
    button.disabled = true;
    var url = location.pathname.replace(/\\/+$/, "") + "/rollouts/" + encodeURIComponent(r.rollout_id) + "/" + action;
    fetch(url, { method: "POST", credentials: "same-origin", cache: "no-store", headers: { "content-type": "application/json", accept: "application/json" }, body: "{}" })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (body) {
          if (!res.ok || !body || body.result !== true) throw new Error((body && body.message) || "HTTP " + res.status);
          actionNote = { text: action + " " + r.rollout_id + ": " + body.data.status, bad: false };
        });
      })
      .catch(function (error) { actionNote = { text: action + " " + r.rollout_id + " refused: " + error.message, bad: true }; })
      .then(function () { refresh(); });
  }

  function renderRollouts(rollouts, viewer) {
    $("rollouts-count").textContent = String(rollouts.length);
    var operator = !!viewer && viewer.read_only === false;
    var headers = ["rollout", "status", "wave", "gate", "errors", "started"];
    if (operator) headers.push("");
    fill("rollouts", table(headers, rollouts.map(function (r) {
      var wave = "not started";
      if (r.wave) {
        var w = r.wave;
        var note = "sent " + w.sent + " · settled " + w.settled + " · failed " + w.failed + (w.bake_until ? " · bake until " + utc(w.bake_until) : "");
        wave = el("div", "wave", [el("div", "", ["wave " + w.index + " of " + r.waves + " started · " + w.size + " agents · ", badge(w.status)]), bar(w.size ? w.settled / w.size : 0, w.failed ? "failed" : ""), el("div", "note", [note])]);
      }
      var g = r.gate;
      var gate = el("div", "gate", [badge(g.state === "tripped" ? "tripped" + (g.gate ? " (" + g.gate + ")" : "") : "ok", g.state), el("div", "note", [g.unhealthy + " unhealthy of " + g.touched + " touched" + (g.threshold === null ? "" : " · trips above " + g.threshold)])]);
      var errors = el("div", "", [r.errors + " / " + (r.max_errors === null ? "no limit" : r.max_errors)]);
      var what = el("div", "", [el("code", "", [r.rollout_id])]);
      if (r.reason) what.appendChild(el("div", "note", [r.reason]));
      if (r.undo) what.appendChild(el("div", "note", ["undo " + r.undo.status]));
      var cells = [what, badge(r.status), wave, gate, errors, el("div", "", [when(r.created_at), el("div", "note", [r.created_by])])];
      if (operator) {
        cells.push(el("div", "actions", r.actions.map(function (action) {
          var button = el("button", action, [action]);
          button.type = "button";
          button.setAttribute("data-action", action);
          button.addEventListener("click", function () { rolloutAction(r, action, button); });
          return button;
        })));
      }
      var tr = row(r.status === "ABORTED" || g.state === "tripped" ? "hl" : r.status === "PAUSED" ? "warn" : "", cells);
      tr.setAttribute("data-rollout", r.rollout_id);
      return tr;
    }), "No rollout is running or ended in the last day."));
  }

  // Desired-state applies (docs/desired-state.md): what each did, by whom, and how it ended.
  function renderApplies(applies) {
    $("applies-count").textContent = String(applies.length);
    fill("applies", table(["apply", "status", "platform", "changes", "author", "started"], applies.map(function (a) {
      var s = a.summary;
      var changes = "+" + s.create + " ~" + s.update + " -" + s.delete + " (" + s.unchanged + " unchanged)";
      var what = el("div", "", [el("code", "", [a.apply_id]), el("div", "note", [a.plan_id])]);
      var tr = row(a.status === "ROLLBACK_FAILED" ? "hl" : a.status === "ROLLED_BACK" ? "warn" : "", [what, badge(a.status), a.plat_name, changes, a.author, when(a.started_at)]);
      tr.setAttribute("data-apply", a.apply_id);
      return tr;
    }), "No desired-state apply yet."));
  }

  function renderConfigs(configs) {
    fill("configs", table(["object", "version", "status", "operation", "author", "when"], configs.map(function (v) {
      var status = el("div", "", [badge(v.status)]);
      if (v.error) status.appendChild(el("div", "note", [v.error]));
      return row(v.highlight ? (v.status === "ROLLED_BACK" ? "warn" : "hl") : "", [el("code", "", [v.object]), "v" + v.version, status, v.operation, v.author, when(v.at)]);
    }), "No configuration changes yet."));
  }

  function render(data) {
    refreshSeconds = data.refresh_seconds || refreshSeconds;
    dataFailingSince = null;
    renderDependencies(data.dependencies);
    renderFleet(data.fleet);
    renderChart(data.history);
    renderVersions(data.fleet);
    renderLost(data.lost);
    renderAlerts(data.alerts);
    renderCommands(data.commands);
    renderRollouts(data.rollouts || [], data.viewer);
    renderApplies(data.applies || []);
    renderConfigs(data.configs);
    if (data.viewer) $("viewer").textContent = data.viewer.app_code + (data.viewer.read_only ? " · read-only" : " · operator");
  }

  function status(text, bad) {
    var node = $("status");
    node.textContent = text;
    node.className = bad ? "status bad" : "status";
  }

  function refresh() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    return fetch(dataUrl, { credentials: "same-origin", cache: "no-store", headers: { accept: "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (body) {
          if (res.status === 401) throw new Error("not signed in: reload the page to sign in");
          if (!res.ok || !body || body.result !== true) {
            renderDependencies(unavailable(res.status, body));
            document.body.setAttribute("data-failed-at", new Date().toISOString());
            throw new Error((body && body.message) || "HTTP " + res.status);
          }
          render(body.data);
          document.body.setAttribute("data-generated-at", body.data.generated_at);
          var failing = failingNames(body.data.dependencies);
          var note = actionNote;
          actionNote = null;
          status("updated " + utc(body.data.generated_at) + " · every " + refreshSeconds + " s" + (failing.length ? " · failing: " + failing.join(", ") : "") + (note ? " · " + note.text : ""), failing.length > 0 || (note !== null && note.bad));
        });
      })
      .catch(function (error) { status("refresh failed (" + error.message + "); showing the last answer", true); })
      .then(function () { timer = setTimeout(refresh, refreshSeconds * 1000); });
  }

  $("refresh").addEventListener("click", function () { refresh(); });
  refresh();
})();
`;

const sha256 = (text: string): string => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>gse-control · status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>gse-control · status</h1><span id="status" class="status">loading…</span><span id="viewer" class="status"></span><button id="refresh" type="button">Refresh</button></header>
<div id="deps" class="deps" role="status" aria-label="dependencies"></div>
<main>
<section class="wide"><h2>Fleet at a glance</h2><div id="fleet"><div class="empty">loading…</div></div></section>
<section class="wide"><h2>Agents by status, last 24 hours</h2><div id="chart"></div></section>
<section><h2>Versions</h2><div id="versions"></div></section>
<section><h2>Lost agents<span id="lost-count" class="count"></span></h2><div id="lost"></div></section>
<section class="wide"><h2>Recent alerts<span id="alerts-count" class="count"></span></h2><div id="alerts"></div></section>
<section class="wide"><h2>Running commands<span id="commands-count" class="count"></span></h2><div id="commands"></div></section>
<section class="wide"><h2>Rollouts<span id="rollouts-count" class="count"></span></h2><div id="rollouts"></div></section>
<section class="wide"><h2>Recent applies<span id="applies-count" class="count"></span></h2><div id="applies"></div></section>
<section class="wide"><h2>Recent config versions</h2><div id="configs"></div></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** What the page may do: its own script and style, requests to its own origin, nothing else. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const PAGE_CONTENT_TYPE = "text/html; charset=utf-8";

/** Headers of the page: never cached (it is behind credentials), never framed or sniffed. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/** The page: the same document for everyone (the data comes from /v1/console/data). */
export const consolePage = (): string => HTML;
