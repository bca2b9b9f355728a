/**
 * The web page in a real browser (Debian's chromium, driven by playwright-core): open an image by
 * its reference, find /etc/os-release in the merged tree, read its text, download it and compare
 * the bytes. A screenshot is kept in dist/test-artifacts/.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

process.env.LAYERSLAYER_CACHE_DIR = mkdtempSync(join(tmpdir(), "ls-serve-page-"));
const { serveConfig } = await import("../../src/serve/config.ts");
const { startServer } = await import("../../src/serve/server.ts");

const OS_RELEASE = 'PRETTY_NAME="Fixture Linux 1"\nID=fixture\n<script>alert(1)</script>\n';
const ARTIFACTS = join(import.meta.dir, "..", "..", "dist", "test-artifacts");

const reg = useRegistry();
let srv: ReturnType<typeof startServer>;
let browser: Browser;

beforeAll(async () => {
  await pushImage(reg, "lab/page", "v1", {
    layers: [
      {
        bytes: layerFrom([
          { path: "etc/os-release", content: OS_RELEASE },
          { path: "bin/tool", content: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]) },
        ]),
      },
      { bytes: layerFrom([{ path: "etc/hostname", content: "lab\n" }]) },
    ],
  });
  const db = join(mkdtempSync(join(tmpdir(), "ls-serve-page-db-")), "scan.sqlite");
  const scanned = await runCli(["scan", `${reg.host}/lab/page:v1`, "--full", "--db", db]);
  if (scanned.code !== 0) throw new Error(scanned.stderr);
  srv = startServer(serveConfig({ listen: "127.0.0.1:0", allowRegistry: [reg.host], accessLog: false, db }));
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"], headless: true });
});

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
});

test("open a reference, read /etc/os-release, download it", async () => {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("dialog", (d) => errors.push(`dialog: ${d.message()}`));
  await page.goto(srv.url);
  // By keyboard: the labelled field, then Enter.
  await page.getByLabel("Image reference").fill(`${reg.host}/lab/page:v1`);
  await page.getByLabel("Image reference").press("Enter");
  await page.locator("#layers li").first().waitFor();
  expect(await page.locator("#layers li").count()).toBe(2);
  await page.getByLabel("Filter paths").fill("os-release");
  const file = page.locator('#tree button[data-path="/etc/os-release"]');
  await file.waitFor();
  expect(await page.locator("#tree li").count()).toBe(1);
  await file.focus();
  await page.keyboard.press("Enter");
  await page.locator("#content").filter({ hasText: "ID=fixture" }).waitFor();
  // The file's text is text in the page: its <script> is shown, never run.
  expect(await page.locator("#content").textContent()).toBe(OS_RELEASE);
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#download").click()]);
  expect(download.suggestedFilename()).toBe("os-release");
  expect(readFileSync((await download.path())!, "utf8")).toBe(OS_RELEASE);
  // A binary file is shown in hex.
  await page.getByLabel("Filter paths").fill("/bin/");
  await page.locator('#tree button[data-path="/bin/tool"]').click();
  await page.locator("#content").filter({ hasText: "00000000  7f 45 4c 46 00 01 02" }).waitFor();
  expect(await page.locator("#as-hex").getAttribute("aria-pressed")).toBe("true");
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "serve-page.png"), fullPage: true });
  expect(errors).toEqual([]);
  await context.close();
});

test("the search box finds a path in the scanned images and opens it", async () => {
  const page = await browser.newPage();
  await page.goto(srv.url);
  await page.getByLabel("Search every scanned image for a path").fill("hostname");
  await page.getByLabel("Search every scanned image for a path").press("Enter");
  const hit = page.locator("#hits button").filter({ hasText: "/etc/hostname" });
  await hit.waitFor();
  await hit.click();
  await page.locator("#content").filter({ hasText: "lab" }).waitFor();
  expect(await page.locator("#content").textContent()).toBe("lab\n");
  await page.close();
});

test("the scan button records the image, then the search box finds its paths", async () => {
  const db = join(mkdtempSync(join(tmpdir(), "ls-serve-page-db-")), "empty.sqlite");
  const fresh = startServer(serveConfig({ listen: "127.0.0.1:0", allowRegistry: [reg.host], accessLog: false, db }));
  const page = await browser.newPage();
  try {
    await page.goto(fresh.url);
    await page.getByLabel("Search every scanned image for a path").fill("hostname");
    await page.getByLabel("Search every scanned image for a path").press("Enter");
    await page.locator("#status").filter({ hasText: "0 paths found" }).waitFor();
    await page.getByLabel("Image reference").fill(`${reg.host}/lab/page:v1`);
    await page.getByRole("button", { name: "Scan for search" }).click();
    await page.locator("#status").filter({ hasText: "Scanned" }).waitFor();
    expect(await page.locator("#status").textContent()).toMatch(/entries recorded/);
    await page.getByLabel("Search every scanned image for a path").press("Enter");
    await page.locator("#hits button").filter({ hasText: "/etc/hostname" }).waitFor();
  } finally {
    await page.close();
    await fresh.stop();
  }
});

test("the page is served with a policy that allows nothing from elsewhere", async () => {
  const res = await fetch(`${srv.url}/`);
  expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(res.headers.get("content-security-policy")).toContain("default-src 'none'; script-src 'self'");
  expect(await res.text()).not.toMatch(/https?:\/\//);
});
