// Drives the viewer of `cervirisk serve` in Debian's headless Chromium (puppeteer-core from
// src/serve/web/node_modules): token, upload of one patient, prediction, NiiVue canvas.
// Usage: node viewer.mjs URL TOKEN IMAGE MASK REPORT SCREENSHOT
// Prints one JSON line: {"probability": p, "lit_pixels": n, "pixels": N, "errors": [...]}.
import { createRequire } from "module";
import path from "path";
import { fileURLToPath } from "url";

const here = path.dirname(fileURLToPath(import.meta.url));
const web = process.env.CERV_WEB || path.join(here, "..", "..", "src", "serve", "web");
const require = createRequire(path.join(web, "package.json"));
const puppeteer = require("puppeteer-core");

const [url, token, image, mask, report, shot] = process.argv.slice(2);
const errors = [];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
         "--window-size=1300,1000"],
  defaultViewport: { width: 1300, height: 1000 },
});
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  await page.goto(url, { waitUntil: "load" });
  await page.type("#token", token);
  await page.click("#connect");
  await page.waitForFunction(() => !document.getElementById("predict").disabled, { timeout: 30000 });
  await (await page.$("#image")).uploadFile(image);
  await (await page.$("#mask")).uploadFile(mask);
  const fs = await import("fs");
  await page.$eval("#report", (el, text) => { el.value = text; }, fs.readFileSync(report, "utf8"));
  await page.click("#predict");
  await page.waitForFunction(() => document.body.dataset.viewerReady === "1" || document.getElementById("error").textContent,
                             { timeout: 120000 });
  const error = await page.$eval("#error", (el) => el.textContent);
  if (error) errors.push("page: " + error);
  const probability = Number(await page.$eval("#probability", (el) => el.dataset.value));
  const lit = await page.evaluate(() => {
    const nv = window.cerviriskViewer;
    if (!nv || !nv.gl) return { lit: -1, total: 0 };
    nv.drawScene();
    const gl = nv.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
    const px = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] > 8 || px[i + 1] > 8 || px[i + 2] > 8) ++n;
    return { lit: n, total: w * h };
  });
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify({ probability, lit_pixels: lit.lit, pixels: lit.total, errors }));
} finally {
  await browser.close();
}
