// Browser setup shared by check_flamegraph.js and check_html.js: Debian's
// chromium driven through playwright-core, with console and page errors
// collected and every request but the page itself refused and listed.
//
//   requirePlaywright()     playwright-core, or prints {"error": ...} and
//                           exits 3 when it is not installed.
//   withPage(playwright, { chromium, url, viewport, listAllRequests }, drive)
//                           launches chromium (--no-sandbox) at the given
//                           viewport, routes requests (only `url` goes
//                           through; the rest are aborted and listed), calls
//                           `await drive(page, out)` with out =
//                           { console_errors, page_errors, requests } for the
//                           script to add to, closes the browser and returns
//                           out. With listAllRequests, requests that never
//                           reach the router are listed too. The caller
//                           opens `url` itself (page.goto).
//   printResult(out)        writes out as one JSON line on stdout.
//   runMain(main)           runs the async main; on a throw prints
//                           {"error": stack} and exits 1.
'use strict';

function requirePlaywright() {
  try {
    return require('playwright-core');
  } catch (e) {
    printResult({ error: 'playwright-core is not installed: ' + e.message });
    process.exit(3);
  }
}

async function withPage(playwright, { chromium, url, viewport, listAllRequests }, drive) {
  const out = { console_errors: [], page_errors: [], requests: [] };
  const browser = await playwright.chromium.launch({ executablePath: chromium, args: ['--no-sandbox'] });
  try {
    const page = await (await browser.newContext({ viewport })).newPage();
    page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
    page.on('pageerror', (e) => out.page_errors.push(String(e)));
    // Every request but the page itself is recorded and refused.
    await page.route('**/*', (route) => {
      const requested = route.request().url();
      if (requested === url) return route.continue();
      out.requests.push(requested);
      return route.abort();
    });
    if (listAllRequests) {
      page.on('request', (r) => {
        if (r.url() !== url && !out.requests.includes(r.url())) out.requests.push(r.url());
      });
    }
    await drive(page, out);
  } finally {
    await browser.close();
  }
  return out;
}

function printResult(out) {
  process.stdout.write(JSON.stringify(out) + '\n');
}

function runMain(main) {
  main().catch((e) => {
    printResult({ error: String(e && e.stack || e) });
    process.exit(1);
  });
}

module.exports = { requirePlaywright, withPage, printResult, runMain };
