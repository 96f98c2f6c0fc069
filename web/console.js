/* ovmm console placeholder: log-in, Manager status, log-out.
 * Uses only the REST API; the session cookie is HttpOnly, and the CSRF
 * token from the log-in answer goes with every change. */
"use strict";
const API = "/ovm/core/wsapi/rest";
let csrf = null;

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

function show(id) {
  for (const s of ["login", "home"])
    document.getElementById(s).hidden = s !== id;
}

async function home() {
  const [mgr] = await call("GET", "/Manager");
  document.getElementById("mgr-name").textContent = mgr.name;
  document.getElementById("mgr-state").textContent = mgr.managerRunState;
  document.getElementById("mgr-version").textContent = mgr.managerVersion;
  document.getElementById("mgr-uuid").textContent = mgr.managerUuid;
  show("home");
}

async function start() {
  try {
    const s = await call("GET", "/session");
    csrf = s.csrfToken;
    document.getElementById("who").textContent = s.user + " (" + s.role + ")";
    await home();
  } catch (e) {
    show("login");
  }
}

document.getElementById("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = document.getElementById("login-error");
  err.textContent = "";
  try {
    const s = await call("POST", "/login", {
      username: document.getElementById("username").value,
      password: document.getElementById("password").value });
    csrf = s.csrfToken;
    document.getElementById("who").textContent = s.user + " (" + s.role + ")";
    await home();
  } catch (e) {
    err.textContent = e.message;
  }
});

document.getElementById("logout").addEventListener("click", async () => {
  await call("POST", "/logout").catch(() => {});
  csrf = null;
  document.getElementById("who").textContent = "";
  show("login");
});

start();
