// /docs in a real browser: headless Chromium (Debian's package, driven by playwright-core) loads
// the interactive docs from a live server with every other host blocked, checks that the
// operations are listed, and runs "Try it out" on GET /api/v1/articles, expecting a 200.
//
//   MASTHEAD_URL=http://127.0.0.1:18097 node tests/contract/docs-browser.mjs
import { chromium } from "playwright-core";

const base = process.env.MASTHEAD_URL ?? "http://127.0.0.1:8080";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

function expect(condition, what) {
  if (!condition) {
    throw new Error(`expected ${what}`);
  }
  console.log(`ok  ${what}`);
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext();
  const blocked = [];
  // The docs must work offline: anything not from the server itself is refused.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base)) {
      return route.continue();
    }
    blocked.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const failures = [];
  page.on("pageerror", (error) => failures.push(String(error)));

  const response = await page.goto(`${base}/docs/`, { waitUntil: "networkidle" });
  expect(response?.status() === 200, "/docs/ answers 200");
  await page.waitForSelector(".opblock", { timeout: 15000 });
  const operations = await page.locator(".opblock").count();
  expect(operations >= 40, `every operation is listed (${operations})`);
  expect((await page.locator(".opblock-tag").allTextContents()).some((t) => t.includes("Comments")), "the Comments tag");

  const list = page.locator("#operations-Content-listArticles");
  await list.locator(".opblock-summary").click();
  await list.locator("button.try-out__btn").click();
  await list.locator("button.execute").click();
  const status = list.locator(".live-responses-table tr.response .response-col_status").first();
  await status.waitFor({ timeout: 15000 });
  const code = (await status.textContent())?.trim();
  expect(code === "200", `"Try it out" on GET /api/v1/articles answers 200 (got ${code})`);
  const body = await list.locator(".live-responses-table .microlight").first().textContent();
  expect(body?.includes('"data"') === true, "the response body is shown");

  expect(blocked.length === 0, `no request left the server (blocked: ${blocked.join(", ") || "none"})`);
  expect(failures.length === 0, `no script error on the page (${failures.join("; ") || "none"})`);
} finally {
  await browser.close();
}
console.log("the docs work in a browser");
