#!/usr/bin/env node
// Drives `dial9 export --html` output in a real headless Chromium and prints
// what it saw as one JSON object on stdout, for tests/integration/html_test.cpp
// to assert on. The script only observes and interacts; it judges nothing
// beyond "it ran" (exit 0) so the C++ test states the facts it needs.
//
//   node check_html.js PAGE.html SCREENSHOT.png [--expect TEXT]... [--search TEXT]
//                      [--full-page] [--chromium PATH]
//
// Observes: console errors and page errors; every request other than the
// page itself (all are blocked and listed); the lanes and the ink of each
// lane on the timeline canvas (samples, polls, spans, thread states); clicking a flamegraph frame (zoom); typing
// into the search box (matches); a shift-drag selection on the timeline
// (flamegraph totals before and after); the first finding's timeline link;
// whether each --expect TEXT appears as text in the page; whether anything
// a hostile name could inject (window.__pwned, img/svg/iframe elements,
// extra scripts) exists. Exit 0 with the JSON when the page could be driven,
// 1 with {"error": ...} when not, 3 when playwright-core is missing.
'use strict';

const path = require('path');
const browser = require('./browser');

function parseArgs(argv) {
  const a = { expect: [], search: 'a', fullPage: false, chromium: '/usr/bin/chromium' };
  const pos = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--expect') a.expect.push(argv[++i]);
    else if (argv[i] === '--search') a.search = argv[++i];
    else if (argv[i] === '--full-page') a.fullPage = true;
    else if (argv[i] === '--chromium') a.chromium = argv[++i];
    else pos.push(argv[i]);
  }
  if (pos.length !== 2) throw new Error('usage: check_html.js PAGE.html SCREENSHOT.png [options]');
  a.page = path.resolve(pos[0]);
  a.screenshot = path.resolve(pos[1]);
  return a;
}

async function main() {
  const playwright = browser.requirePlaywright();
  const args = parseArgs(process.argv.slice(2));
  const pageUrl = 'file://' + args.page;
  const result = await browser.withPage(playwright, {
    chromium: args.chromium, url: pageUrl, viewport: { width: 1400, height: 1000 }, listAllRequests: true,
  }, async (page, out) => {
    await page.goto(pageUrl, { waitUntil: 'load' });
    await page.waitForFunction(() => window.dial9 && window.dial9.ready, null, { timeout: 15000 });

    // Lanes: labels, and per lane the canvas pixels in each data colour.
    out.timeline = await page.evaluate(() => {
      const canvas = document.getElementById('tl-canvas');
      const ctx = canvas.getContext('2d');
      const css = getComputedStyle(document.documentElement);
      const rgb = (name) => {
        const h = css.getPropertyValue(name).trim();
        return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
      };
      const colours = { on: rgb('--on'), off: rgb('--off'), poll: rgb('--poll'), span: rgb('--span'), event: rgb('--event'),
        running: rgb('--running'), runnable: rgb('--runnable'), blocked: rgb('--blocked') };
      const dpr = canvas.width / canvas.clientWidth;
      const ink = (l) => {
        const y0 = Math.round(l.offsetTop * dpr), h = Math.round(l.offsetHeight * dpr);
        const img = ctx.getImageData(0, y0, canvas.width, h).data;
        const counts = { on: 0, off: 0, poll: 0, span: 0, event: 0, running: 0, runnable: 0, blocked: 0 };
        for (let i = 0; i < img.length; i += 4) {
          for (const [k, c] of Object.entries(colours)) {
            if (Math.abs(img[i] - c[0]) < 12 && Math.abs(img[i + 1] - c[1]) < 12 && Math.abs(img[i + 2] - c[2]) < 12 && img[i + 3] > 200) counts[k]++;
          }
        }
        return { label: l.textContent.slice(0, 200), ink: counts };
      };
      // Thread lanes, and the custom events' lane under them.
      const lanes = Array.from(document.querySelectorAll('#lane-labels .lane-label:not(.events)')).map(ink);
      const events = document.querySelector('#lane-labels .lane-label.events');
      const data = JSON.parse(document.getElementById('dial9-data').textContent);
      return { lanes: lanes, events_lane: events ? ink(events) : null, data_lanes: data.lanes.length,
        data_events: data.events.length, api_lanes: window.dial9.lanes(), states: window.dial9.states() };
    });

    // Flamegraph: click the widest frame that is not already full width.
    const flameBox = await page.$eval('#flame', (f) => f.clientWidth);
    const frames = await page.$$eval('#flame .frame', (fs) => fs.map((f, i) => ({
      i: i, name: f.textContent, width: f.offsetWidth, top: f.offsetTop })));
    const target = frames.filter((f) => f.top > 0 && f.width < flameBox * 0.9)
      .sort((a, b) => b.width - a.width)[0];
    out.flame = { frames: frames.length, width: flameBox, total: await page.evaluate(() => window.dial9.flameTotal()) };
    if (target) {
      await (await page.$$('#flame .frame'))[target.i].click();
      out.flame.clicked = target.name;
      out.flame.clicked_width_before = target.width;
      out.flame.zoomed = await page.evaluate(() => window.dial9.zoomedFrame());
      out.flame.clicked_width_after = await page.$$eval('#flame .frame', (fs, n) => {
        const f = fs.find((x) => x.textContent === n && !x.classList.contains('ancestor'));
        return f ? f.offsetWidth : -1;
      }, target.name);
      out.flame.trail = await page.$eval('#flame-trail', (t) => t.textContent);
      await page.click('#flame-reset');
      out.flame.zoomed_after_reset = await page.evaluate(() => window.dial9.zoomedFrame());
    }

    // Search.
    await page.fill('#flame-search', args.search);
    out.search = await page.evaluate((q) => {
      const m = Array.from(document.querySelectorAll('#flame .frame.match'));
      return {
        query: q,
        matches: m.length,
        all_contain_query: m.every((f) => f.textContent.toLowerCase().includes(q.toLowerCase())),
        non_matching_highlighted: Array.from(document.querySelectorAll('#flame .frame'))
          .filter((f) => !f.classList.contains('match') && f.textContent.toLowerCase().includes(q.toLowerCase())).length,
        label: document.getElementById('flame-match').textContent,
      };
    }, args.search);
    await page.fill('#flame-search', '');

    // A time-range selection by shift-drag over the timeline.
    let box = await (await page.$('#tl-canvas')).boundingBox();
    const before = await page.evaluate(() => window.dial9.flameTotal());
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + box.width * 0.10, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.25, box.y + 40, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.40, box.y + 40, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    out.selection = {
      total_before: before,
      total_after: await page.evaluate(() => window.dial9.flameTotal()),
      range: await page.evaluate(() => window.dial9.selection()),
      flame_label: await page.$eval('#flame-total', (e) => e.textContent),
      selection_label: await page.$eval('#sel-label', (e) => e.textContent),
    };
    // Zoom with the wheel and pan with a drag change the visible range.
    const view0 = await page.evaluate(() => window.dial9.view());
    await page.mouse.move(box.x + box.width * 0.5, box.y + 40);
    await page.mouse.wheel(0, -400);
    const view1 = await page.evaluate(() => window.dial9.view());
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + 40, { steps: 4 });
    await page.mouse.up();
    const view2 = await page.evaluate(() => window.dial9.view());
    out.zoom_pan = { initial: view0, after_wheel: view1, after_drag: view2 };
    await page.click('#tl-reset');

    // The first finding's link to the timeline.
    const link = await page.$('#findings a.goto');
    out.finding_link = { present: !!link };
    if (link) {
      await page.click('#tl-clear');
      await link.click();
      out.finding_link.selection = await page.evaluate(() => window.dial9.selection());
      out.finding_link.view = await page.evaluate(() => window.dial9.view());
      out.finding_link.flame_total = await page.evaluate(() => window.dial9.flameTotal());
      await page.click('#tl-clear');
      await page.click('#tl-reset');
    }

    // Hostile input: text present as text, nothing injected, nothing ran.
    out.safety = await page.evaluate((expect) => {
      const texts = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
        acceptNode: (n) => (n.parentElement && n.parentElement.closest('script') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
      });
      for (let n = walker.nextNode(); n; n = walker.nextNode()) texts.push(n.nodeValue);
      const all = texts.join('\n');
      return {
        pwned: window.__pwned !== undefined,
        injected_elements: document.querySelectorAll('img, svg, iframe, object, embed, video, audio, link, form').length,
        scripts: document.querySelectorAll('script').length,
        elements_with_handlers: Array.from(document.querySelectorAll('*'))
          .filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on'))).length,
        expected_text: expect.map((t) => ({ text: t.slice(0, 80), found: all.includes(t) })),
      };
    }, args.expect);
    // Give any late handler (an image error, a timer) a moment to fire.
    await page.waitForTimeout(300);
    out.safety.pwned = out.safety.pwned || await page.evaluate(() => window.__pwned !== undefined);

    // For the screenshot: a selection over the middle of the timeline.
    await page.evaluate(() => window.scrollTo(0, 0));
    box = await (await page.$('#tl-canvas')).boundingBox();
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + box.width * 0.30, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.70, box.y + 40, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: args.screenshot, fullPage: args.fullPage });
    out.screenshot = args.screenshot;
  });
  browser.printResult(result);
}

browser.runMain(main);
