#!/usr/bin/env node
// Browser check of `kerros serve`'s page in headless Chromium, with no
// packages: Chromium's DevTools protocol over --remote-debugging-pipe.
// Opens the page at 390 px (a phone), types a review into every text box,
// submits the form (no JavaScript on the page) and prints what #prediction
// shows; fails when the result, the class bars or the highlighted words are
// missing, the page scrolls sideways, or the console reports an error.
//
//   [SCREENSHOT=page.png] node bench/serve_browser_check.js http://127.0.0.1:8080 [CHROMIUM]
"use strict";
const { spawn } = require("child_process");

const base = process.argv[2];
const chromium = process.argv[3] || "/usr/bin/chromium";
if (!base) {
  console.error("usage: node bench/serve_browser_check.js URL [CHROMIUM]");
  process.exit(2);
}
const review = [
  "My migraines stopped completely and I can work again.",
  "Some drowsiness in the first week, then nothing.",
  "Excellent drug, I would recommend it.",
];

const browser = spawn(
  chromium,
  ["--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "about:blank"],
  { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
);
const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];
let nextId = 1;
const waiting = new Map();
const consoleErrors = [];
let buffer = "";
fromBrowser.on("data", (chunk) => {
  buffer += chunk.toString("utf8");
  let end;
  while ((end = buffer.indexOf("\0")) >= 0) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (message.id && waiting.has(message.id)) {
      const { resolve, reject } = waiting.get(message.id);
      waiting.delete(message.id);
      message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result);
    } else if (message.method === "Runtime.consoleAPICalled" && message.params.type === "error") {
      consoleErrors.push(JSON.stringify(message.params.args));
    } else if (message.method === "Runtime.exceptionThrown") {
      consoleErrors.push(JSON.stringify(message.params.exceptionDetails.text));
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + "\0");
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const evaluate = async (expression) =>
    (await page("Runtime.evaluate", { expression, returnByValue: true })).result.value;
  await page("Runtime.enable");
  await page("Emulation.setDeviceMetricsOverride", {
    width: 390, height: 844, deviceScaleFactor: 2, mobile: true,
  });
  await page("Page.navigate", { url: base + "/" });
  for (let i = 0; i < 100 && !(await evaluate("document.readyState === 'complete' && !!document.querySelector('form')")); i++) await sleep(100);
  const boxes = await evaluate("document.querySelectorAll('textarea').length");
  for (let k = 0; k < boxes; k++) {
    await evaluate(`document.querySelectorAll('textarea')[${k}].focus()`);
    await page("Input.insertText", { text: review[k % review.length] });
  }
  await evaluate("document.querySelector('button[type=submit]').click()");
  let shown = null;
  for (let i = 0; i < 300 && !shown; i++) {
    await sleep(100);
    shown = await evaluate("document.querySelector('#prediction') && document.readyState === 'complete' ? document.querySelector('#prediction').innerText : null");
  }
  const facts = await evaluate(`({
    label: (document.querySelector('#predicted-label') || {}).textContent,
    bars: document.querySelectorAll('#prediction .prob-bar').length,
    scale: document.querySelectorAll('#prediction .scale-mark').length,
    marked: document.querySelectorAll('#prediction mark.up, #prediction mark.down').length,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  })`);
  if (process.env.SCREENSHOT) {
    // SCREENSHOT=file.png keeps a picture of the result page.
    const shot = await page("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
    require("fs").writeFileSync(process.env.SCREENSHOT, Buffer.from(shot.data, "base64"));
  }
  browser.kill();
  console.log(`text boxes: ${boxes}`);
  console.log(`#prediction:\n${shown}`);
  console.log(JSON.stringify(facts));
  const problems = [];
  if (!shown) problems.push("no #prediction after submitting");
  if (!facts.label) problems.push("no predicted label");
  if (facts.bars === 0 && facts.scale === 0) problems.push("neither class bars nor a rating scale");
  if (facts.marked === 0) problems.push("no highlighted words");
  if (facts.overflow > 0) problems.push(`the page scrolls sideways by ${facts.overflow}px at 390px`);
  if (consoleErrors.length) problems.push(`console errors: ${consoleErrors.join("; ")}`);
  if (problems.length) {
    console.error("FAILED: " + problems.join("; "));
    process.exit(1);
  }
  console.log("browser check passed");
}
main().catch((e) => {
  browser.kill();
  console.error(e);
  process.exit(1);
});
