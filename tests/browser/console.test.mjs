// console.test.mjs - the console in real Chromium (Debian's), driven by
// playwright-core: log-in page, failed and successful log-in, the session
// cookie's flags, CSRF on cookie changes (a change answers with a Job),
// reload, the live Jobs and Events panes (fed by the SSE stream; needs
// job_diagnostics on), log-out.
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

  // The live panes. Jobs are diagnostic jobs (job_diagnostics is on in
  // run.sh); every change must reach the page through the SSE stream, so
  // the page is marked and the mark must survive (no reload happened).
  const jobRow = (id) => page.locator(`#jobs tbody tr[data-id="${id}"]`);
  const jobState = (id, state) =>
    jobRow(id).locator("td.state").filter({ hasText: new RegExp(`^${state}$`) });
  const badgeIs = (cls) => page.waitForFunction((cls) =>
    document.getElementById("mgr-severity").classList.contains(cls),
    cls, { timeout: 10000 });
  const noReload = () => page.evaluate(() => window.ovmmTestMark === true);
  const diag = async (body) => {
    const r = await api("POST", "/Job/diagnostic", body, csrf);
    if (r.status !== 200 || !r.body.id) throw new Error(JSON.stringify(r));
    return r.body.id.value;
  };
  let mgrId = null;
  await check("the Jobs and Events panes load and the live stream opens", async () => {
    await page.locator("#live").filter({ hasText: "live updates on" })
      .waitFor({ timeout: 10000 });
    await page.locator("#jobs tbody tr")
      .filter({ hasText: `Create User: ${uname}` }).waitFor({ timeout: 10000 });
    await page.locator("#events tbody tr")
      .filter({ hasText: "INFORMATIONAL" }).first().waitFor({ timeout: 10000 });
    const heads = await page.locator("#jobs thead th").allTextContents();
    const m = await api("GET", "/Manager");
    mgrId = m.body[0].id.value;
    await page.evaluate(() => { window.ovmmTestMark = true; });
    const sev = await page.getAttribute("#mgr-severity", "class");
    return (heads.join("|") === "Name|State|User|Start|End|Error|Actions" &&
            sev.includes("sev-none")) || { heads, sev };
  });

  let lockJob = null;
  await check("a job appears RUNNING live and the Manager shows locked", async () => {
    lockJob = await diag({ name: "web-lock", objects: [{ id: mgrId }],
      operations: [{ op: "touch", id: mgrId }, { op: "sleep", ms: 2000 }] });
    await Promise.all([
      jobState(lockJob, "RUNNING").waitFor({ timeout: 10000 }),
      page.locator("#mgr-locked.locked").filter({ hasText: "locked" })
        .waitFor({ timeout: 10000 })]);
    return (await noReload()) || "the page was reloaded";
  });
  await check("the job changes to SUCCESS live and the Manager is unlocked", async () => {
    await jobState(lockJob, "SUCCESS").waitFor({ timeout: 10000 });
    await page.locator("#mgr-locked").filter({ hasText: "not locked" })
      .waitFor({ timeout: 10000 });
    const end = await jobRow(lockJob).locator("td").nth(4).textContent();
    const abort = await jobRow(lockJob).getByRole("button").isVisible();
    return (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(end) && !abort &&
            await noReload()) || { end, abort };
  });

  let sleepJob = null;
  await check("the Abort button aborts a running job", async () => {
    sleepJob = await diag({ name: "web-sleep",
      operations: [{ op: "sleep", ms: 10000 }] });
    await jobState(sleepJob, "RUNNING").waitFor({ timeout: 10000 });
    await jobRow(sleepJob).getByRole("button", { name: /^Abort/ }).click();
    await jobState(sleepJob, "ABORTED").waitFor({ timeout: 5000 });
    const err = await jobRow(sleepJob).locator("td").nth(5).textContent();
    return (err === "aborted by admin" &&
            !(await jobRow(sleepJob).getByRole("button").isVisible())) || err;
  });
  await check("a refused abort shows the server's message", async () => {
    // The button is hidden on done jobs; drive the console's handler.
    await page.evaluate((id) => abortJob(id, document.createElement("button")),
                        sleepJob);
    await page.locator("#jobs-status[role=status]")
      .filter({ hasText: /Abort refused: .*already done/ })
      .waitFor({ timeout: 5000 });
    return true;
  });

  let failJob = null;
  await check("a failed job turns the Manager badge yellow and adds a WARNING event", async () => {
    failJob = await diag({ name: "web-fail", objects: [{ id: mgrId }],
      operations: [{ op: "touch", id: mgrId },
                   { op: "fail", message: "web test failure" }] });
    await badgeIs("sev-warning");
    await page.locator("#events tbody tr")
      .filter({ hasText: "Job 'web-fail' failed: injected failure: web test failure" })
      .locator(".badge.sev-warning").filter({ hasText: "WARNING" })
      .waitFor({ timeout: 10000 });
    return ((await page.textContent("#mgr-severity")) === "WARNING" &&
            await noReload()) || await page.textContent("#mgr-severity");
  });
  await check("Acknowledge clears the Manager badge live", async () => {
    const row = page.locator("#events tbody tr")
      .filter({ hasText: "Job 'web-fail' failed: injected failure: web test failure" });
    await row.getByRole("button", { name: /^Acknowledge/ }).click();
    await badgeIs("sev-none");
    await row.locator("td").nth(4).filter({ hasText: /^yes \(admin, / })
      .waitFor({ timeout: 10000 });
    await page.locator("#jobs tbody tr")
      .filter({ hasText: /^Acknowledge event / }).first()
      .locator("td.state").filter({ hasText: "SUCCESS" })
      .waitFor({ timeout: 10000 });
    return (!(await row.getByRole("button").isVisible()) &&
            await noReload()) || "Acknowledge button still shown";
  });

  await check("clicking a job row shows its transcript with operation states", async () => {
    await jobRow(failJob).locator("td").first().click();
    await page.locator("#job-details-h")
      .filter({ hasText: "Transcript: web-fail (FAILURE)" })
      .waitFor({ timeout: 10000 });
    const ops = await page.locator("#job-ops tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.cells].map((c) => c.textContent).join("|")));
    const cls = await page.getAttribute("#job-ops tbody tr:nth-child(2) td.state",
                                        "class");
    return (ops.length === 2 && ops[0].split("|")[2] === "UNDONE" &&
            ops[1] === "2|Fail|FAILED|injected failure: web test failure" &&
            cls.includes("op-failed")) || { ops, cls };
  });

  await check("after the stream drops, the console reconnects and resumes", async () => {
    // A dropped stream (as when the Manager restarts): the console checks
    // the session, then reopens the stream after the last seq it got.
    await page.evaluate(() => stream.dispatchEvent(new Event("error")));
    await page.locator("#live").filter({ hasText: "live updates on" })
      .waitFor({ timeout: 10000 });
    const id = await diag({ name: "web-resume",
      operations: [{ op: "sleep", ms: 100 }] });
    await jobState(id, "SUCCESS").waitFor({ timeout: 10000 });
    return (await noReload()) || "the page was reloaded";
  });

  await check("log-out returns to the log-in form and ends the session", async () => {
    await page.click("#logout");
    await page.locator("#login").waitFor({ state: "visible", timeout: 10000 });
    const r = await api("GET", "/Manager");
    return r.status === 401 || r;
  });
  await check("log-out closes the live stream and empties the panes", async () =>
    (await page.evaluate(() => stream === null &&
      document.querySelectorAll("#jobs tbody tr, #events tbody tr").length === 0 &&
      document.getElementById("live").textContent === "")) || "still live");
  await check("after log-out a reload shows the log-in form", async () => {
    await page.reload({ waitUntil: "load" });
    await page.locator("#login").waitFor({ state: "visible", timeout: 10000 });
    return dialogs === 0 || `dialogs: ${dialogs}`;
  });
  await check("a session that ended returns to the log-in form, no dialog", async () => {
    await page.fill("#username", "admin");
    await page.fill("#password", password);
    await page.click("#login button[type=submit]");
    await page.locator("#live").filter({ hasText: "live updates on" })
      .waitFor({ timeout: 10000 });
    // End the session behind the console's back, then drop its stream.
    const s = await api("GET", "/session");
    await api("POST", "/logout", undefined, s.body.csrfToken);
    await page.evaluate(() => stream.dispatchEvent(new Event("error")));
    await page.locator("#login-error").filter({ hasText: /session ended/ })
      .waitFor({ timeout: 10000 });
    return (await page.locator("#home").isHidden() && dialogs === 0) ||
      `dialogs: ${dialogs}`;
  });
  if (process.env.SCREENSHOT)
    await page.screenshot({ path: process.env.SCREENSHOT });
} finally {
  await browser.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
