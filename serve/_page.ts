/**
 * The web console: one HTML page, its stylesheet and script, served by the
 * handler itself (no CDN, no internet). The statechart is inlined SVG; the
 * script highlights the active states it receives over Server-Sent Events.
 * URLs are relative, so the console also works behind a path prefix.
 * @module
 */
import { SESSION_DIAGRAM_SVG } from "./_diagram.ts";

/** The page. */
export const PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>OpenD console</title>
<link rel="stylesheet" href="assets/console.css">
<script src="assets/console.js" defer></script>
</head>
<body>
<header>
  <h1>OpenD</h1>
  <span id="badge" class="badge" role="status" aria-live="polite">connecting</span>
  <span id="conn" class="conn" title="live updates">&#9679;</span>
</header>
<main>
  <div class="side">
    <section class="card" id="summary">
      <dl>
        <dt>OpenD status</dt><dd id="gateway">-</dd>
        <dt>Link</dt><dd id="link">-</dd>
        <dt>Recovery</dt><dd id="recovery">-</dd>
        <dt>Why</dt><dd id="reason">-</dd>
      </dl>
    </section>
    <section class="card attention" id="code-card" hidden>
      <h2 id="code-title">OpenD needs a verification code</h2>
      <img id="picture" alt="picture verification code" hidden>
      <form id="code-form" autocomplete="off">
        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
          maxlength="12" required aria-label="verification code" placeholder="code">
        <button type="submit">Submit</button>
      </form>
      <p class="msg" id="code-msg" aria-live="polite"></p>
    </section>
    <section class="card danger" id="reset-card" hidden>
      <h2>Stopped</h2>
      <p id="reset-reason"></p>
      <button id="reset" type="button">Reset and reconnect</button>
      <p class="msg" id="reset-msg" aria-live="polite"></p>
    </section>
    <section class="card" id="token-card" hidden>
      <form id="token-form" autocomplete="off">
        <label for="token">Access token (asked once, kept for this tab)</label>
        <input id="token" type="password">
        <button type="submit">Use token</button>
      </form>
    </section>
  </div>
  <section class="card chart-card">
    <h2>Statechart <button id="zoom" type="button">Zoom</button></h2>
    <div id="chart" class="chart fit">${SESSION_DIAGRAM_SVG}</div>
  </section>
  <section class="card timeline-card">
    <h2>Timeline</h2>
    <ol id="timeline" reversed></ol>
  </section>
</main>
</body>
</html>
`;

/** The stylesheet. */
export const PAGE_CSS: string = `:root {
  color-scheme: light;
  --fg: #1d2329; --muted: #5b6672; --bg: #f3f5f7; --card: #fff;
  --good: #17803d; --bad: #c62828; --warn: #b86e00; --hi: #4fc3f7; --hi-line: #0b4f8a;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: .75rem; padding: .75rem 1rem;
  background: #1d2329; color: #fff; position: sticky; top: 0; z-index: 1; }
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 .5rem; display: flex; justify-content: space-between; align-items: center; }
.badge { padding: .15rem .6rem; border-radius: 1rem; background: #5b6672; font-weight: 600; }
.badge.ready { background: var(--good); }
.badge.fatal { background: var(--bad); }
.badge.waiting { background: var(--warn); }
.conn { margin-left: auto; color: #7ddc8c; }
.conn.off { color: #ff8a80; }
main { display: grid; gap: .75rem; padding: .75rem; grid-template-columns: minmax(0, 1fr);
  grid-template-areas: "side" "chart" "timeline"; align-items: start; }
.side { grid-area: side; } .chart-card { grid-area: chart; } .timeline-card { grid-area: timeline; }
@media (min-width: 900px) {
  main { grid-template-columns: 360px minmax(0, 1fr); grid-template-rows: auto 1fr;
    grid-template-areas: "side chart" "timeline chart"; }
}
.side { display: grid; gap: .75rem; min-width: 0; }
.card { background: var(--card); border-radius: .5rem; padding: .75rem 1rem;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 0; }
.card.attention { border-left: 4px solid var(--warn); }
.card.danger { border-left: 4px solid var(--bad); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .75rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
form { display: flex; gap: .5rem; flex-wrap: wrap; }
label { width: 100%; color: var(--muted); }
input { flex: 1 1 8rem; min-width: 0; font-size: 1.25rem; padding: .45rem .6rem;
  border: 1px solid #b8c0c8; border-radius: .375rem; letter-spacing: .1em; }
button { font: inherit; font-weight: 600; padding: .5rem 1rem; border: 0; border-radius: .375rem;
  background: #1f6feb; color: #fff; cursor: pointer; }
h2 button { padding: .2rem .6rem; font-size: .85rem; background: #5b6672; }
#reset { background: var(--bad); }
.msg { margin: .4rem 0 0; color: var(--muted); min-height: 1.2em; }
.msg.error { color: var(--bad); }
#picture { display: block; max-width: 100%; margin-bottom: .5rem; image-rendering: pixelated; border: 1px solid #ddd; }
#timeline { margin: 0; padding-left: 1.2rem; max-height: 22rem; overflow: auto; font-size: .9rem; }
#timeline li { padding: .15rem 0; border-bottom: 1px solid #eef0f2; overflow-wrap: anywhere; }
#timeline time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: .4rem; }
#timeline .bad { color: var(--bad); } #timeline .good { color: var(--good); } #timeline .warn { color: var(--warn); }
.chart { overflow: auto; -webkit-overflow-scrolling: touch; }
.chart svg { display: block; height: auto; }
.chart.fit svg { width: 100%; }
.chart:not(.fit) svg { width: 1800px; max-width: none; }
.chart .node.active > path, .chart .node.active > polygon, .chart .node.active > ellipse,
.chart .node.active > g > a > path { fill: var(--hi); stroke: var(--hi-line); stroke-width: 4px; }
.chart .node.active text { font-weight: 700; }
.chart .cluster.active > path { stroke: var(--hi-line); stroke-width: 2.5px; }
`;

/** The script. */
export const PAGE_JS: string = `"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem("opend-console-token") || "";
  var nodes = new Map();
  document.querySelectorAll("#chart g.node, #chart g.cluster").forEach(function (g) {
    var title = g.querySelector("title");
    if (!title) return;
    var id = title.textContent.replace(/^cluster_/, "");
    // The root and its regions are always active: outlining them says nothing.
    if (g.classList.contains("cluster") && id.split(".").length < 4) return;
    nodes.set(id, g);
  });
  var active = [];
  var pending = null;
  var pictureShown = "";

  function highlight(ids) {
    active.forEach(function (id) { var g = nodes.get(id); if (g && ids.indexOf(id) < 0) g.classList.remove("active"); });
    ids.forEach(function (id) { var g = nodes.get(id); if (g) g.classList.add("active"); });
    active = ids.slice();
    document.body.setAttribute("data-active", ids.join(" "));
  }

  function render(state) {
    var s = state.summary;
    $("gateway").textContent = s.gateway;
    $("link").textContent = s.link + (s.attempt ? " (attempt " + s.attempt + ")" : "");
    $("recovery").textContent = s.recovery || "-";
    $("reason").textContent = s.fatalReason || s.stoppedReason || s.recoveryReason || s.lastReason || "-";
    var badge = $("badge");
    badge.className = "badge " + (s.ready ? "ready" : s.fatal || s.link === "stopped" ? "fatal" : state.pendingCode ? "waiting" : "");
    badge.textContent = s.ready ? "Ready" : s.fatal ? "fatal" : state.pendingCode ? "needs a code" : s.link;
    document.body.setAttribute("data-ready", String(s.ready));
    highlight(state.active);

    pending = state.pendingCode;
    $("code-card").hidden = !pending;
    if (pending) {
      $("code-title").textContent = "OpenD needs a " + pending.kind + " code (attempt " + pending.attempt + ")";
      $("code").inputMode = pending.kind === "phone" ? "numeric" : "text";
      var pic = $("picture");
      if (pending.kind === "picture") {
        var key = pending.attempt + ":" + (pending.picturePath || "");
        if (pictureShown !== key) {
          pictureShown = key;
          pic.hidden = true;
          pic.onload = function () { pic.hidden = false; };
          pic.onerror = function () { pic.hidden = true; };
          pic.src = "api/picture?attempt=" + encodeURIComponent(pending.attempt) + "&t=" + Date.now();
        }
      } else pic.hidden = true;
    } else pictureShown = "";
    $("reset-card").hidden = !state.canReset;
    if (state.canReset) $("reset-reason").textContent = s.fatalReason || s.stoppedReason || "stopped";
  }

  var TONES = { ready: "good", lost: "bad", fatal: "bad", gaveUp: "bad", stopped: "bad", needsCode: "warn", needsPerson: "warn" };
  function describe(entry) {
    var e = entry.event;
    switch (entry.type) {
      case "ready": return "Ready";
      case "lost": return "link lost: " + e.reason;
      case "reconnecting": return "reconnecting in " + (e.delayMs / 1000).toFixed(1) + " s (attempt " + e.attempt + ")";
      case "stopped": return "stopped: " + e.reason;
      case "closed": return "closed";
      case "needsCode": return "OpenD needs a " + e.kind + " code (attempt " + e.attempt + ")";
      case "needsPerson": return "needs a person: " + e.reason;
      case "gaveUp": return "gave up: " + e.reason;
      case "fatal": return "fatal: " + e.reason;
      case "notification":
        var n = e.notification || {};
        return "OpenD: " + (n.typeName || n.type) + (n.statusName ? " " + n.statusName : n.eventName ? " " + n.eventName : "") + (n.desc ? " (" + n.desc + ")" : "");
      case "console": return "console: " + e.action;
      default: return entry.type;
    }
  }
  function addEntry(entry) {
    var li = document.createElement("li");
    var time = document.createElement("time");
    time.dateTime = entry.at;
    time.textContent = new Date(entry.at).toLocaleTimeString();
    li.appendChild(time);
    var text = document.createElement("span");
    text.textContent = describe(entry);
    text.className = TONES[entry.type] || "";
    li.appendChild(text);
    var list = $("timeline");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 150) list.removeChild(list.lastChild);
  }

  function post(path, body, msg, retry) {
    var headers = { "content-type": "application/json" };
    if (token) headers.authorization = "Bearer " + token;
    msg.className = "msg"; msg.textContent = "sending...";
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; }); })
      .then(function (r) {
        if (r.status === 401) {
          $("token-card").hidden = false;
          $("token").focus();
          msg.className = "msg error"; msg.textContent = "an access token is needed";
          tokenRetry = retry;
          return;
        }
        msg.className = r.status < 300 ? "msg" : "msg error";
        msg.textContent = r.body.message || ("HTTP " + r.status);
      })
      .catch(function () { msg.className = "msg error"; msg.textContent = "could not reach the console"; });
  }
  var tokenRetry = null;

  $("code-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = $("code");
    var code = input.value.trim();
    input.value = "";
    if (!code) return;
    var send = function () { return post("api/code", { code: code }, $("code-msg"), send); };
    send().then(function () { if (!tokenRetry) code = ""; });
  });
  $("reset").addEventListener("click", function () {
    var send = function () { return post("api/reset", {}, $("reset-msg"), send); };
    send();
  });
  $("token-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = $("token").value.trim();
    $("token").value = "";
    sessionStorage.setItem("opend-console-token", token);
    $("token-card").hidden = true;
    var retry = tokenRetry; tokenRetry = null;
    if (retry) retry();
  });
  $("zoom").addEventListener("click", function () {
    var chart = $("chart");
    chart.classList.toggle("fit");
    $("zoom").textContent = chart.classList.contains("fit") ? "Zoom" : "Fit";
  });

  var events = new EventSource("api/events");
  events.addEventListener("open", function () { $("conn").className = "conn"; });
  events.addEventListener("error", function () { $("conn").className = "conn off"; });
  events.addEventListener("history", function (m) {
    $("timeline").textContent = "";
    JSON.parse(m.data).forEach(addEntry);
  });
  events.addEventListener("state", function (m) { render(JSON.parse(m.data)); });
  events.addEventListener("event", function (m) { addEntry(JSON.parse(m.data)); });
})();
`;
