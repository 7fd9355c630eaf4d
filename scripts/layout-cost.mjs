// How long Chromium spends on style and layout for one page, with its own
// stylesheet, with none, and with extra rules added: the measurement behind
// BENCHMARKS.md's "Lighthouse: the guide with the other core busy".
//
//   node scripts/layout-cost.mjs URL [RULES.css ...]
//   RUNS=9 node scripts/layout-cost.mjs http://127.0.0.1:3000/blog/ketamine-assisted-psychotherapy-guide
//
// The page is fetched once and served again from loopback, its stylesheet
// link swapped per variant, then loaded RUNS times (default 7) per variant
// at Lighthouse's phone size; prints the median of CDP's LayoutDuration and
// RecalcStyleDuration. Unthrottled: compare variants on one machine, not
// numbers across machines. Needs puppeteer-core (scripts/install-tools)
// and the system's Chromium.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const tools = fileURLToPath(new URL("../target/tools/node_modules/", import.meta.url));
const puppeteer = createRequire(tools)("puppeteer-core");

const [url, ...extras] = process.argv.slice(2);
if (!url) {
  console.error("usage: node scripts/layout-cost.mjs URL [RULES.css ...]");
  process.exit(2);
}
const runs = Number(process.env.RUNS || 7);
const html = await (await fetch(url)).text();
const link = html.match(/<link rel="stylesheet" href="([^"]+)">/);
if (!link) throw new Error(`${url} links no stylesheet`);
const own = await (await fetch(new URL(link[1], url))).text();

const variants = new Map([["own stylesheet", own], ["no stylesheet", ""]]);
for (const file of extras) variants.set(`own + ${file}`, own + "\n" + readFileSync(file, "utf8"));
const names = [...variants.keys()];

const server = createServer((req, res) => {
  const [path, query] = req.url.split("?");
  if (path === "/page") {
    const body = html.replace(link[0], `<link rel="stylesheet" href="/style.css?${query}">`);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  } else if (path === "/style.css") {
    res.writeHead(200, { "content-type": "text/css" }).end(variants.get(names[Number(query)]));
  } else {
    res.writeHead(404).end();
  }
});
await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const samples = names.map(() => []);
try {
  // Variants interleave, so a busy moment on the machine spreads over all.
  for (let run = 0; run < runs; run++) {
    for (const [index] of names.entries()) {
      const page = await browser.newPage();
      await page.emulate({ viewport: { width: 412, height: 823, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true },
        userAgent: await browser.userAgent() });
      const cdp = await page.createCDPSession();
      await cdp.send("Performance.enable");
      await page.goto(`${base}/page?${index}`, { waitUntil: "load" });
      await new Promise((settle) => setTimeout(settle, 200));
      const { metrics } = await cdp.send("Performance.getMetrics");
      const value = (name) => metrics.find((m) => m.name === name).value * 1000;
      samples[index].push([value("LayoutDuration"), value("RecalcStyleDuration")]);
      await page.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}

const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
console.log(`${url}, ${runs} loads each, median ms`);
console.log("layout  style  both  variant");
for (const [index, name] of names.entries()) {
  const rows = samples[index];
  const [layout, style, both] = [median(rows.map((r) => r[0])), median(rows.map((r) => r[1])), median(rows.map((r) => r[0] + r[1]))];
  console.log(`${layout.toFixed(1).padStart(6)} ${style.toFixed(1).padStart(6)} ${both.toFixed(1).padStart(5)}  ${name}`);
}
