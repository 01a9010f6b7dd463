#!/usr/bin/env node
// Drives a `dial9 export --flamegraph` SVG in a real headless Chromium and
// prints what it saw as one JSON object on stdout, for
// tests/integration/flamegraph_test.cpp to assert on. It observes and
// interacts; the C++ test judges.
//
//   node check_flamegraph.js FILE.svg SCREENSHOT.png [--click NAME] [--search TERM]...
//                            [--chromium PATH]
//
// Observes: page and console errors; requests other than the file (all
// refused); the frames (name, width, hidden); after clicking the first frame
// named --click: its width and how many frames stayed visible, then the same
// after "Reset Zoom"; for each --search TERM (answered through the page's
// prompt): the "Matched" text and how many frames were highlighted; the
// details line while hovering the widest non-root frame; and whether
// anything a hostile name could inject exists (window.__pwned, img/iframe/
// foreignObject elements, extra scripts or svg elements).
// Exit 0 with the JSON when the page could be driven, 1 with {"error": ...}
// when not, 3 when playwright-core is missing.
'use strict';

const path = require('path');
const browser = require('./browser');

function parseArgs(argv) {
  const a = { search: [], click: null, chromium: '/usr/bin/chromium' };
  const pos = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--search') a.search.push(argv[++i]);
    else if (argv[i] === '--click') a.click = argv[++i];
    else if (argv[i] === '--chromium') a.chromium = argv[++i];
    else pos.push(argv[i]);
  }
  if (pos.length !== 2) throw new Error('usage: check_flamegraph.js FILE.svg SCREENSHOT.png [options]');
  a.file = path.resolve(pos[0]);
  a.screenshot = path.resolve(pos[1]);
  return a;
}

// The frames as the page has them now.
function frames() {
  return Array.from(document.querySelectorAll('g.f')).map((g) => ({
    name: g.querySelector('title').textContent.split('\n')[0],
    width: +g.querySelector('rect').getAttribute('width'),
    fill: g.querySelector('rect').getAttribute('fill'),
    hidden: g.classList.contains('hide'),
  }));
}

async function main() {
  const playwright = browser.requirePlaywright();
  const args = parseArgs(process.argv.slice(2));
  const url = 'file://' + args.file;
  const result = await browser.withPage(playwright, {
    chromium: args.chromium, url, viewport: { width: 1250, height: 900 },
  }, async (page, out) => {
    let answer = '';
    page.on('dialog', (d) => d.accept(answer));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForTimeout(200);
    out.frames = await page.evaluate(frames);
    out.script_ready = await page.evaluate(() => typeof window.dial9Flamegraph === 'object');

    // Hover the widest frame below the root.
    const widest = await page.evaluate(() => {
      let best = -1, w = -1;
      document.querySelectorAll('g.f').forEach((g, i) => {
        const x = +g.querySelector('rect').getAttribute('width');
        if (i > 0 && x > w) { w = x; best = i; }
      });
      return best;
    });
    if (widest > 0) {
      await page.hover(`g.f:nth-of-type(${widest + 1}) rect`);
      out.details_on_hover = await page.evaluate(() => document.getElementById('details').textContent);
    }

    if (args.click) {
      const index = out.frames.findIndex((f) => f.name === args.click);
      out.click = { found: index >= 0 };
      if (index >= 0) {
        await page.click(`g.f:nth-of-type(${index + 1}) rect`, { force: true });
        const after = await page.evaluate(frames);
        out.click.width = after[index].width;
        out.click.visible = after.filter((f) => !f.hidden).length;
        out.click.dimmed = await page.evaluate(() => document.querySelectorAll('g.f.parent').length);
        out.click.reset_shown = await page.evaluate(() => !document.getElementById('reset').classList.contains('hide'));
        await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-zoomed.png') });
        await page.click('#reset');
        const reset = await page.evaluate(frames);
        out.click.visible_after_reset = reset.filter((f) => !f.hidden).length;
        out.click.width_after_reset = reset[index].width;
        out.click.reset_shown_after = await page.evaluate(() => !document.getElementById('reset').classList.contains('hide'));
      }
    }

    out.search = [];
    for (const term of args.search) {
      answer = term;
      await page.click('#search');
      await page.waitForTimeout(50);
      out.search.push({
        term,
        matched: await page.evaluate(() => document.getElementById('matched').textContent),
        highlighted: await page.evaluate(() => Array.from(document.querySelectorAll('g.f rect'))
          .filter((r) => r.getAttribute('fill') === 'rgb(230,0,230)').length),
      });
    }
    await page.keyboard.press('Escape');
    out.matched_after_escape = await page.evaluate(() => document.getElementById('matched').textContent);

    out.safety = await page.evaluate(() => ({
      pwned: window.__pwned !== undefined,
      img: document.querySelectorAll('img').length,
      iframe: document.querySelectorAll('iframe').length,
      foreign_object: document.getElementsByTagName('foreignObject').length,
      scripts: document.getElementsByTagName('script').length,
      svgs: document.getElementsByTagName('svg').length,
      title: document.getElementById('title').textContent,
    }));
    await page.screenshot({ path: args.screenshot });
  });
  browser.printResult(result);
}

browser.runMain(main);
