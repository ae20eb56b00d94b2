// The browser side: Debian's chromium through playwright-core, and what every page a
// flow visits must pass — axe at desktop and phone width, no sideways scrolling — with
// a screenshot of each for a reviewer.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

import { ROOT } from "./app.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
export const SCREENSHOTS = join(ROOT, "target", "screenshots");
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };
const BLOCKING = new Set(["serious", "critical"]);

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // As root (CI) chromium's sandbox cannot start.
    args: ["--no-sandbox"],
  });
}

// A tab of its own (cookies included); axe is injected past the page's CSP.
export async function newTab(browser) {
  const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true, locale: "en-US" });
  return context.newPage();
}

// Waits for the page a click sends, and answers the status of the request it made
// (a 303 itself, not the page it led to).
export async function submit(page, click) {
  const answered = page.waitForResponse(
    (response) => response.request().isNavigationRequest() && response.frame() === page.mainFrame(),
  );
  await click();
  const response = await answered;
  await page.waitForLoadState("load");
  return response.status();
}

// axe at both widths, sideways scrolling at phone width, and screenshots of both;
// throws on a serious or critical violation and lists the rest.
export async function checkPage(page, flow, name) {
  const problems = [];
  for (const viewport of [DESKTOP, PHONE]) {
    await page.setViewportSize(viewport);
    const violations = await axeViolations(page);
    for (const violation of violations) {
      const line = `${name} at ${viewport.width} px: ${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes
        .map((node) => node.target.join(" "))
        .slice(0, 3)
        .join("; ")})`;
      if (BLOCKING.has(violation.impact)) problems.push(line);
      else console.log(`axe (not blocking): ${line}`);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (viewport === PHONE && overflow > 0) {
      problems.push(`${name} at ${viewport.width} px scrolls sideways by ${overflow} px`);
    }
    const dir = join(SCREENSHOTS, flow);
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `${name}-${viewport.width}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
  if (problems.length) throw new Error(problems.join("\n"));
}

async function axeViolations(page) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations);
}
