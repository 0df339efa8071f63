// A real browser on the documentation page: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core.  It checks that Swagger
// UI lists every operation, then authorizes with a token from the
// `token` command and creates a thought through "Try it out".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const repo = resolve(import.meta.dirname, "../..");
const bin = process.env.THOUGHTS_BIN ?? join(repo, "build/thoughts-backend");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

let server, browser, baseUrl, env, dataDir;

function freePort() {
  return new Promise((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url + "/swagger.json")).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}

before(async () => {
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), "thoughts-docs-"));
  env = {
    ...process.env,
    PORT: String(port),
    BIND_ADDRESS: "127.0.0.1",
    DATA_DIR: dataDir,
    ACCESS_LOG: "off",
    LOG_LEVEL: "warning",
  };
  server = spawn(bin, ["serve"], { env, stdio: "inherit" });
  baseUrl = `http://127.0.0.1:${port}`;
  await waitForServer(baseUrl);
  browser = await chromium.launch({
    executablePath: browserPath,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
      "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  if (server) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    assert.equal(await exited, 0);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test("the page lists every documented operation", async () => {
  const page = await browser.newPage();
  await page.goto(baseUrl + "/");
  await page.locator(".opblock").first().waitFor();
  const spec = await (await fetch(baseUrl + "/swagger.json")).json();
  const documented = Object.values(spec.paths)
    .flatMap((item) => Object.values(item).map((op) => op.operationId));
  for (const id of documented) {
    assert.equal(await page.locator(`[id$="-${id}"]`).count(), 1, id);
  }
  assert.equal(await page.locator(".opblock").count(), documented.length);
  await page.close();
});

test("authorize and create a thought from the page", async () => {
  const header = execFileSync(bin, ["token", "browser-user"], { env })
    .toString().trim();
  const token = header.replace(/^Bearer /, "");
  const text = `Written in Swagger UI ${Date.now()}`;

  const page = await browser.newPage();
  await page.goto(baseUrl + "/");
  await page.locator(".btn.authorize").first().click();
  await page.locator(".auth-container input").fill(token);
  await page.locator(".auth-btn-wrapper .btn.authorize").click();
  await page.locator(".btn-done").click();

  const op = page.locator('[id$="-create_thought"]');
  await op.locator(".opblock-summary").click();
  await op.locator(".try-out__btn").click();
  await op.locator("textarea.body-param__text").fill(JSON.stringify({ text }));
  await op.locator(".execute").click();
  const status = op.locator(
    ".live-responses-table tbody .response-col_status");
  await status.first().waitFor();
  assert.equal((await status.first().innerText()).trim(), "201");
  await page.close();

  const all = await (await fetch(baseUrl + "/api/thoughts/")).json();
  const mine = all.filter((t) => t.text === text);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].username, "browser-user");
});
