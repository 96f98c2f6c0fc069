// console.test.mjs - the console in real Chromium (Debian's), driven by
// playwright-core: log-in page, failed and successful log-in, the session
// cookie's flags, CSRF on cookie changes (a change answers with a Job),
// reload, log-out.
// Env: OVMM_URL (https://127.0.0.1:PORT), OVMM_PASSWORD (admin's).
// Prints TAP; exits non-zero when a test failed.
import { chromium } from "playwright-core";

const url = process.env.OVMM_URL;
const password = process.env.OVMM_PASSWORD;
let n = 0, failed = 0;

function tap(ok, name, diag) {
  n++;
  if (ok) {
    console.log(`ok ${n} - browser: ${name}`);
  } else {
    failed++;
    console.log(`not ok ${n} - browser: ${name}`);
    if (diag !== undefined)
      for (const l of String(diag).split("\n")) console.log(`#   ${l}`);
  }
}

// Each check is bounded: a hang (e.g. a browser waiting on an HTTP auth
// challenge) becomes a failure, never a stuck test run.
async function check(name, fn) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out after 20 s")), 20000);
  });
  try {
    const r = await Promise.race([fn(), limit]);
    tap(r === true, name, r === true ? undefined : `got ${JSON.stringify(r)}`);
  } catch (e) {
    tap(false, name, e.stack || e.message);
  } finally {
    clearTimeout(timer);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"],
});
// The certificate is self-signed; TLS verification is tested elsewhere
// (tests/api/lifecycle.sh) with the generated certificate as the CA.
const context = await browser.newContext({ ignoreHTTPSErrors: true });
const page = await context.newPage();
let dialogs = 0;
page.on("dialog", (d) => { dialogs++; d.dismiss(); });
const API = "/ovm/core/wsapi/rest";
const api = (method, path, body, csrf) => page.evaluate(
  async ([method, path, body, csrf]) => {
    // As the console does: no Basic challenge, so no browser auth prompt.
    const h = { "Accept": "application/json",
                "X-Requested-With": "ovmm-console" };
    if (body) h["Content-Type"] = "application/json";
    if (csrf) h["X-CSRF-Token"] = csrf;
    const r = await fetch(path, { method, headers: h,
      body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, API + path, body, csrf]);

try {
  await check("/ redirects to the console and shows the log-in form", async () => {
    await page.goto(url + "/", { waitUntil: "load" });
    await page.locator("#login").waitFor({ state: "visible", timeout: 10000 });
    return page.url().endsWith("/ovm/console/") || page.url();
  });
  await check("no browser password dialog was opened", async () =>
    dialogs === 0 || `dialogs: ${dialogs}`);

  await check("a wrong password shows the server's message", async () => {
    await page.fill("#username", "admin");
    await page.fill("#password", "not-the-password");
    await page.click("#login button[type=submit]");
    const err = page.locator("#login-error");
    await err.filter({ hasText: /invalid user name or password/ })
      .waitFor({ timeout: 10000 });
    return await page.locator("#home").isHidden();
  });

  await check("the right password shows the Manager RUNNING", async () => {
    await page.fill("#password", password);
    await page.click("#login button[type=submit]");
    await page.locator("#mgr-state").filter({ hasText: "RUNNING" })
      .waitFor({ timeout: 10000 });
    return (await page.textContent("#who")) === "admin (administrator)" ||
      await page.textContent("#who");
  });

  await check("the session cookie is HttpOnly, Secure, SameSite=Strict", async () => {
    const c = (await context.cookies()).find((x) => x.name === "OVMSESSION");
    if (!c) return "no OVMSESSION cookie";
    return (c.httpOnly && c.secure && c.sameSite === "Strict") || c;
  });
  await check("page scripts cannot read the session cookie", async () =>
    !(await page.evaluate(() => document.cookie)).includes("OVMSESSION"));

  let csrf = null;
  await check("GET /session with the cookie returns the CSRF token", async () => {
    const r = await api("GET", "/session");
    csrf = r.body && r.body.csrfToken;
    return (r.status === 200 && /^[0-9a-f]{64}$/.test(csrf)) || r;
  });
  const uname = "web" + Date.now();
  await check("a cookie change without the CSRF token is 403", async () => {
    const r = await api("POST", "/User",
      { name: uname, password: "Web-Passw0rd-1", role: "read-only" });
    return (r.status === 403 && r.body.errorCode === "CSRF_TOKEN_INVALID") || r;
  });
  // Changes answer with a Job; the user exists once the job succeeded.
  let jobId = null;
  await check("the same change with the CSRF token answers with a Job", async () => {
    const r = await api("POST", "/User",
      { name: uname, password: "Web-Passw0rd-1", role: "read-only" }, csrf);
    jobId = r.body && r.body.id && r.body.id.value;
    return (r.status === 200 && r.body.name === `Create User: ${uname}` &&
            typeof jobId === "string") || r;
  });
  await check("the job succeeds and made the user", async () => {
    const r = await api("GET", `/Job/${jobId}?wait=15`);
    return (r.status === 200 && r.body.jobRunState === "SUCCESS" &&
            r.body.resultId && r.body.resultId.name === uname) || r;
  });

  await check("a reload keeps the session", async () => {
    await page.reload({ waitUntil: "load" });
    await page.locator("#mgr-state").filter({ hasText: "RUNNING" })
      .waitFor({ timeout: 10000 });
    return true;
  });

  await check("log-out returns to the log-in form and ends the session", async () => {
    await page.click("#logout");
    await page.locator("#login").waitFor({ state: "visible", timeout: 10000 });
    const r = await api("GET", "/Manager");
    return r.status === 401 || r;
  });
  await check("after log-out a reload shows the log-in form", async () => {
    await page.reload({ waitUntil: "load" });
    await page.locator("#login").waitFor({ state: "visible", timeout: 10000 });
    return dialogs === 0 || `dialogs: ${dialogs}`;
  });
  if (process.env.SCREENSHOT)
    await page.screenshot({ path: process.env.SCREENSHOT });
} finally {
  await browser.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
