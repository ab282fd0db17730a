// The status page in headless Chromium (Debian's chromium, driven by playwright-core): waits for the plots to
// update, checks the numbers shown against /metrics, and saves a screenshot. Run by StatusPageTest with
// STRATA_URL, CHROMIUM and SCREENSHOT set; exits non-zero on the first failed check.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const base = process.env.STRATA_URL;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push("request failed: " + r.url()));
  await page.goto(base + "/");
  // three polls: the plots have been redrawn from fresh samples at least twice
  await page.waitForFunction(() => Number(document.body.dataset.updates || 0) >= 3, null, { timeout: 30000 });
  assert.deepEqual(errors, [], "page errors");

  const metrics = await (await fetch(base + "/metrics")).text();
  const metric = (name, labels = "") => {
    const line = metrics.split("\n").find((l) => l.startsWith(name + (labels ? "{" + labels + "}" : "") + " "));
    assert.ok(line, "no " + name + "{" + labels + "} in /metrics");
    return Number(line.split(" ").pop());
  };
  const shown = await page.evaluate(() => ({
    hostBudget: Number(document.getElementById("tier-host-budget").dataset.bytes),
    hostPagedIn: Number(document.getElementById("tier-host-paged-in").dataset.bytes),
    hostHits: Number(document.getElementById("tier-host-hits").textContent),
    hostMisses: Number(document.getElementById("tier-host-misses").textContent),
    completionTokens: Number(document.getElementById("completion-tokens").textContent),
    requests: Number(document.getElementById("requests").textContent),
    occupancyLines: document.querySelectorAll("#occupancy polyline").length,
    occupancyPoints: Math.max(...[...document.querySelectorAll("#occupancy polyline")]
      .map((p) => p.getAttribute("points").split(" ").length)),
    budgetLines: document.querySelectorAll("#occupancy line[data-budget]").length,
    bandwidthLines: document.querySelectorAll("#bandwidth polyline").length,
    heatCells: document.querySelectorAll("#heatmap rect").length,
    hotCells: [...document.querySelectorAll("#heatmap rect")].filter((r) => Number(r.dataset.count) > 0).length,
  }));
  assert.equal(shown.hostBudget, metric("strata_tier_budget_bytes", 'tier="host"'));
  assert.equal(shown.hostPagedIn, metric("strata_tier_paged_in_bytes_total", 'tier="host"'));
  assert.equal(shown.hostHits, metric("strata_tier_hits_total", 'tier="host"'));
  assert.equal(shown.hostMisses, metric("strata_tier_misses_total", 'tier="host"'));
  assert.equal(shown.completionTokens, metric("strata_completion_tokens_total"));
  assert.equal(shown.requests, metric("strata_requests_total"));
  assert.ok(shown.completionTokens > 0, "no tokens shown");
  assert.ok(shown.occupancyLines >= 2 && shown.occupancyPoints >= 3, JSON.stringify(shown));
  assert.ok(shown.budgetLines >= 1, "no budget line drawn");
  assert.ok(shown.bandwidthLines >= 1, "no bandwidth line drawn");
  assert.equal(shown.heatCells, Number(process.env.HEAT_CELLS));
  assert.ok(shown.hotCells >= 2, "the heat map shows no routed experts");
  await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  console.log(JSON.stringify({ ok: true, shown }));
} finally {
  await browser.close();
}
