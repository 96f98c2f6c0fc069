/* ovmm console: log-in, the Manager, live Jobs and Events panes, log-out.
 * Uses only the REST API; the session cookie is HttpOnly, and the CSRF
 * token from the log-in answer goes with every change. Live updates come
 * from the server-sent event stream (GET /events/stream). All data goes
 * into the page as text (textContent), never as HTML. */
"use strict";
const API = "/ovm/core/wsapi/rest";
const LIMIT = 50;               /* rows per table, as the lists ask for */
let csrf = null, role = null, mgrId = null;
let stream = null, retry = null, lastSeq = null;
let pending = null;             /* stream messages seen during a reload */
let selected = null;            /* job id whose transcript is shown */
const jobs = new Map();         /* job id -> {obj, tr} */
const events = new Map();       /* event id -> {obj, tr} */

async function call(method, path, body) {
  /* X-Requested-With: no Basic challenge on 401 (no browser dialog). */
  const opts = { method, headers: { "Accept": "application/json",
                                    "X-Requested-With": "ovmm-console" },
                 credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (csrf && method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
  const r = await fetch(API + path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(data.message || r.statusText),
                                 { status: r.status });
  return data;
}

const $ = (id) => document.getElementById(id);

function show(id) {
  for (const s of ["login", "home"]) $(s).hidden = s !== id;
}

function td(tr, text, cls) {
  const c = tr.insertCell();
  c.textContent = text;
  if (cls) c.className = cls;
  return c;
}

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "";
  const d = new Date(ms), p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
         `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function sevClass(sev) {
  if (sev === "WARNING") return "sev-warning";
  if (sev === "ERROR" || sev === "CRITICAL") return "sev-error";
  return "sev-none";
}

/* serial(fn): a function that runs fn, never twice at once; a call while
 * it runs makes it run once more afterwards, so the last call is honoured. */
function serial(fn) {
  let busy = false, again = false;
  return async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do { again = false; await fn(); } while (again);
    } finally {
      busy = false;
    }
  };
}

/* ---- Manager */

function showManager(m) {
  mgrId = m.id.value;
  $("mgr-name").textContent = m.name;
  $("mgr-state").textContent = m.managerRunState;
  $("mgr-version").textContent = m.managerVersion;
  $("mgr-uuid").textContent = m.managerUuid;
  const b = $("mgr-severity");
  b.textContent = m.eventSeverity || "none";
  b.className = "badge " + sevClass(m.eventSeverity);
  const l = $("mgr-locked");
  l.className = m.locked ? "locked" : "";
  if (m.locked) {
    const icon = document.createElement("span");
    icon.className = "lock-icon";
    icon.setAttribute("aria-hidden", "true");
    l.replaceChildren(icon, "locked by a job");
  } else {
    l.replaceChildren("not locked");
  }
}

const refreshManager = serial(async () => {
  try {
    showManager((await call("GET", "/Manager"))[0]);
  } catch (e) {
    failed(e, "jobs-status", "Cannot read the Manager");
  }
});

/* ---- Jobs */

function jobRow(id) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  tr.dataset.id = id;
  for (let i = 0; i < 6; i++) td(tr, "");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "abort";
  b.textContent = "Abort";
  b.addEventListener("click", (ev) => { ev.stopPropagation(); abortJob(id, b); });
  tr.insertCell().append(b);
  tr.addEventListener("click", () => selectJob(id));
  tr.addEventListener("keydown", (ev) => {
    if (ev.target === tr && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      selectJob(id);
    }
  });
  return tr;
}

function fillJob(tr, j) {
  const c = tr.cells, name = j.name || j.id.name || j.id.value;
  c[0].textContent = name;
  c[1].textContent = j.jobRunState;
  c[1].className = "state st-" + String(j.jobRunState).toLowerCase();
  c[2].textContent = j.user || "";
  c[3].textContent = fmtTime(j.startTime);
  c[4].textContent = fmtTime(j.endTime);
  c[3].className = c[4].className = "time";
  c[5].textContent = (j.error && j.error.message) || "";
  const b = c[6].firstChild;
  b.hidden = j.done || role === "read-only";
  b.setAttribute("aria-label", "Abort job " + name);
}

/* Put @j into the table; @force: even when older than the row (a reload).
 * Answers whether the job is new or its state changed. */
function upsertJob(j, force) {
  if (!j || !j.id || j.parentJobId) return false;   /* top-level jobs only */
  const id = j.id.value, row = jobs.get(id);
  if (row && !force && j.generation < row.obj.generation) return false;
  const changed = !row || row.obj.jobRunState !== j.jobRunState;
  const r = row || { tr: jobRow(id) };
  r.obj = j;
  fillJob(r.tr, j);
  jobs.set(id, r);
  return changed;
}

const jobKey = (j) => [j.createTime || 0, Number(j.id.value)];
const eventKey = (e) => [e.timeStamp || 0, Number(e.id.value)];

/* Order @map's rows newest first in @tbody, keep the newest LIMIT; rows
 * already in place are not moved (a focused button keeps its focus). */
function render(map, tbody, key) {
  const rows = [...map.values()].sort((a, b) => {
    const ka = key(a.obj), kb = key(b.obj);
    return kb[0] - ka[0] || kb[1] - ka[1];
  });
  for (const r of rows.slice(LIMIT)) {
    map.delete(r.obj.id.value);
    r.tr.remove();
  }
  rows.slice(0, LIMIT).forEach((r, i) => {
    if (tbody.rows[i] !== r.tr) tbody.insertBefore(r.tr, tbody.rows[i] || null);
  });
}
const renderJobs = () => render(jobs, $("jobs").tBodies[0], jobKey);

async function abortJob(id, b) {
  $("jobs-status").textContent = "";
  b.disabled = true;
  try {
    if (upsertJob(await call("PUT", `/Job/${encodeURIComponent(id)}/abort`)))
      renderJobs();
  } catch (e) {
    failed(e, "jobs-status", "Abort refused");
  } finally {
    b.disabled = false;
  }
}

function selectJob(id) {
  selected = id;
  for (const [k, r] of jobs) {
    r.tr.classList.toggle("selected", k === id);
    if (k === id) r.tr.setAttribute("aria-current", "true");
    else r.tr.removeAttribute("aria-current");
  }
  $("job-details").hidden = false;
  loadTranscript();
}

const loadTranscript = serial(async () => {
  const id = selected;
  if (!id) return;
  let t;
  try {
    t = await call("GET", `/Job/${encodeURIComponent(id)}/transcript`);
  } catch (e) {
    if (selected === id) failed(e, "job-details-error", "Cannot read the transcript");
    return;
  }
  if (selected !== id) return;
  $("job-details-error").textContent = "";
  $("job-details-h").textContent =
    `Transcript: ${t.id.name || "job " + id} (${t.jobRunState})`;
  const tbody = $("job-ops").tBodies[0];
  tbody.replaceChildren();
  for (const op of t.operations || []) {
    const tr = tbody.insertRow();
    td(tr, String(op.seq + 1));
    td(tr, op.description || op.operation).title = op.operation;
    td(tr, op.state, "state op-" + String(op.state).toLowerCase());
    td(tr, op.message || "");
  }
  if (!tbody.rows.length)
    td(tbody.insertRow(), "No operations of its own.").colSpan = 4;
});

/* ---- Events */

function eventRow(id) {
  const tr = document.createElement("tr");
  const badge = document.createElement("span");
  tr.insertCell().append(badge);
  for (let i = 0; i < 4; i++) td(tr, "");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "ack";
  b.textContent = "Acknowledge";
  b.addEventListener("click", () => acknowledge(id, b));
  tr.insertCell().append(b);
  return tr;
}

function fillEvent(tr, e) {
  const c = tr.cells, badge = c[0].firstChild;
  badge.textContent = e.severity;
  badge.className = "badge " + sevClass(e.severity);
  c[1].textContent = e.summary || e.name;
  c[1].title = e.description || "";
  c[2].textContent = e.object ? (e.object.name || e.object.value) : "Manager";
  c[3].textContent = fmtTime(e.timeStamp);
  c[3].className = "time";
  c[4].textContent = e.acknowledged
    ? `yes (${e.acknowledgedBy || "?"}, ${fmtTime(e.acknowledgedTime)})` : "no";
  const b = c[5].firstChild;
  b.hidden = e.acknowledged || !e.userAcknowledgeable || role === "read-only";
  b.setAttribute("aria-label", "Acknowledge " + (e.summary || e.name));
}

function upsertEvent(e) {
  if (!e || !e.id) return;
  const id = e.id.value, r = events.get(id) || { tr: eventRow(id) };
  r.obj = e;
  fillEvent(r.tr, e);
  events.set(id, r);
}
const renderEvents = () => render(events, $("events").tBodies[0], eventKey);

async function acknowledge(id, b) {
  $("events-status").textContent = "";
  b.disabled = true;
  try {
    /* Answers with the Job; the stream brings it and the event. */
    if (upsertJob(await call("PUT", `/Event/${encodeURIComponent(id)}/acknowledge`)))
      renderJobs();
  } catch (e) {
    failed(e, "events-status", "Acknowledge refused");
  } finally {
    b.disabled = false;
  }
}

/* ---- Loading and the live stream */

/* Both tables from the lists. Stream messages that arrive meanwhile may be
 * newer than the lists' answers, so they are applied again afterwards. */
async function reload() {
  const buf = pending = [];
  let js, evs;
  try {
    [js, evs] = await Promise.all([
      call("GET", `/Job?order=desc&limit=${LIMIT}&parent=0`),
      call("GET", `/Event?limit=${LIMIT}`)]);
  } catch (e) {
    if (pending === buf) pending = null;
    failed(e, "jobs-status", "Cannot load jobs and events");
    return;
  }
  if (pending !== buf) return;          /* a newer reload took over */
  pending = null;
  $("jobs-status").textContent = "";
  const keepJobs = new Set(), keepEvents = new Set();
  for (const j of js) { upsertJob(j, true); keepJobs.add(j.id.value); }
  for (const e of evs) { upsertEvent(e); keepEvents.add(e.id.value); }
  for (const [kind, o] of buf) {
    if (kind === "job") { upsertJob(o); keepJobs.add(o.id.value); }
    else { upsertEvent(o); keepEvents.add(o.id.value); }
  }
  for (const [map, keep] of [[jobs, keepJobs], [events, keepEvents]])
    for (const [id, r] of map)
      if (!keep.has(id)) { map.delete(id); r.tr.remove(); }
  renderJobs();
  renderEvents();
  refreshManager();
  if (selected) loadTranscript();
}

function onMessage(kind, m) {
  if (m.lastEventId) lastSeq = m.lastEventId;
  let o;
  try { o = JSON.parse(m.data); } catch (e) { return; }
  if (!o || !o.id) return;
  if (pending) pending.push([kind, o]);
  if (kind === "job") {
    /* A job that starts or ends takes or frees its objects' locks. */
    if (upsertJob(o)) refreshManager();
    renderJobs();
    if (o.id.value === selected) loadTranscript();
  } else {
    upsertEvent(o);
    renderEvents();
    if (!o.object || o.object.value === mgrId) refreshManager();
  }
}

function setLive(text) { $("live").textContent = text; }

/* The stream resumes after the last seq received (?since=), so nothing is
 * missed across a reconnect; a fresh one (re)loads the tables once it is
 * open, so nothing between the lists and the stream is missed either. */
function openStream() {
  closeStream();
  const since = lastSeq === null ? "" : "?since=" + encodeURIComponent(lastSeq);
  const es = stream = new EventSource(API + "/events/stream" + since);
  es.addEventListener("open", () => {
    setLive("live updates on");
    if (!since) reload();
  });
  es.addEventListener("job", (m) => onMessage("job", m));
  es.addEventListener("event", (m) => onMessage("event", m));
  es.addEventListener("reset", () => reload());
  es.addEventListener("error", () => {
    if (stream !== es) return;
    /* Reconnect here rather than let EventSource do it: on an ended
     * session the stream answers 401 with the Basic challenge (EventSource
     * cannot send X-Requested-With), which would bring up the browser's
     * password dialog. So check the session with fetch() first. */
    es.close();
    stream = null;
    setLive("reconnecting\u2026");
    retry = setTimeout(reconnect, 1000);
  });
}

async function reconnect() {
  retry = null;
  try {
    await call("GET", "/session");
  } catch (e) {
    if (!failed(e)) retry = setTimeout(reconnect, 3000);
    return;
  }
  if (csrf) openStream();
}

function closeStream() {
  if (stream) stream.close();
  stream = null;
  clearTimeout(retry);
  retry = null;
}

/* An error in the background: a lost session returns to the log-in form
 * (answers true); anything else is shown in @statusId. */
function failed(e, statusId, what) {
  if (e.status === 401) {
    leave();
    $("login-error").textContent = "Your session ended; please log in again.";
    return true;
  }
  if (statusId) $(statusId).textContent = `${what}: ${e.message}`;
  return false;
}

/* ---- Log-in and log-out */

async function enter(s) {
  csrf = s.csrfToken;
  role = s.role;
  $("who").textContent = s.user + " (" + s.role + ")";
  showManager((await call("GET", "/Manager"))[0]);
  show("home");
  openStream();
}

function leave() {
  closeStream();
  setLive("");
  csrf = role = mgrId = selected = pending = lastSeq = null;
  for (const map of [jobs, events]) {
    for (const r of map.values()) r.tr.remove();
    map.clear();
  }
  $("job-details").hidden = true;
  for (const s of ["jobs-status", "events-status", "job-details-error"])
    $(s).textContent = "";
  $("who").textContent = "";
  show("login");
}

async function start() {
  try {
    await enter(await call("GET", "/session"));
  } catch (e) {
    show("login");
  }
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = $("login-error");
  err.textContent = "";
  try {
    await enter(await call("POST", "/login", {
      username: $("username").value,
      password: $("password").value }));
  } catch (e) {
    err.textContent = e.message;
  }
});

$("logout").addEventListener("click", async () => {
  closeStream();
  await call("POST", "/logout").catch(() => {});
  leave();
});

start();
