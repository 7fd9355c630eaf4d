// axe-core on each page, in the system's Chromium driven by puppeteer-core,
// once in the light and once in the dark colour scheme (their contrasts
// differ). Run by scripts/quality:
//
//   node scripts/axe.mjs TOOLS_DIR BASE_URL PATH...
//
// Prints one JSON object: for each path and scheme, the violations (rule id,
// impact, help and the first few offending elements).
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [tools, base, ...paths] = process.argv.slice(2);
const require = createRequire(join(tools, "node_modules", "noop.js"));
const puppeteer = require("puppeteer-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const profile = mkdtempSync(join(tmpdir(), "axe-chromium-"));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", `--user-data-dir=${profile}`,
  ],
});
const report = {};
try {
  const page = await browser.newPage();
  // A phone: the widths most visitors read at.
  await page.setViewport({ width: 375, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  for (const path of paths) {
    report[path] = {};
    for (const scheme of ["light", "dark"]) {
      await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
      const response = await page.goto(base + path, { waitUntil: "load" });
      if (!response.ok()) throw new Error(`${path}: HTTP ${response.status()}`);
      // Evaluated through DevTools, which the page's CSP does not govern.
      await page.evaluate(axeSource);
      const result = await page.evaluate(() => axe.run(document));
      report[path][scheme] = result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
      }));
    }
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(report, null, 2));
