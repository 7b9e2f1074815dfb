#!/usr/bin/env node
// Browser checks of published pages (issue 3): for each page path and each view (390 px,
// 1280 px, embedded in an <iframe> of a host page) it loads the page from the test server
// in headless Chromium and checks: no console error or page error, no request to any other
// origin and no failed local request, no cookies, the cut time present, 0 axe-core
// violations (WCAG 2.0/2.1 A + AA); it saves a full-page screenshot. HTML validity: `tidy
// -errors -quiet` on each page's file, errors fail (warnings do not).
// Prints one line per check and ends with "N passed, N failed"; exits 1 on any failure,
// 2 on bad usage. Plain Node.js (>= 18), CommonJS, no build step. See docs/testing-browser.md.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const USAGE = `usage: node run.js --base-url URL [--site DIR] [options] [PAGE...]
  PAGE               page path under the site root, e.g. "" or / (home), gubernatura/,
                     diputaciones/distrito-01/seccion-0001/
  --base-url URL     where the test server serves the site (http://127.0.0.1:PORT/)
  --site DIR         the site directory (for tidy, and for --sample)
  --pages-file FILE  more page paths, one a line ("#" comments)
  --sample           add one page of every kind found under --site (see docs)
  --views LIST       comma list of 390,1280,iframe (default: all three); also any
                     width in px (320, 360...) and iframe-W (the page in an iframe of a
                     host page W px wide, as a phone shows a portal)
  --widths LIST      phone views: for each width W the views W and iframe-W, and the
                     phone checks (--phone-checks); e.g. --widths 320,360,390
  --phone-checks     three more checks per view: numeric-one-line (every number or
                     percentage, and every word of a table heading, on one line),
                     overflow (nothing wider than the view, not even inside a scroller)
                     and targets (links and controls >= 24x24 px, WCAG 2.2 2.5.8)
  --embed-prefix P   the iframe view loads P + page (default: the page itself)
  --cut-selector SEL element that shows the cut time (default: [data-corte-hora])
  --cut-text TEXT    instead of a selector: text that must be in the page's visible text
  --cut-datetime P   the cut element's data-corte-hora or datetime attribute must start
                     with P (e.g. 2021-06-06T23:00): the page shows the expected cut
  --artifacts DIR    screenshots (default: out/browser-artifacts): each view's first
                     screen, its whole page when one of its checks failed
  --full-page        always the whole page (the largest page takes seconds)
  --chromium PATH    browser executable (default: $PREP_CHROMIUM or
                     /usr/lib/chromium/chromium-headless-shell)
  --page-timeout MS  bound for one page in one view (default 30000)
  --total-timeout MS bound for the whole run (default 600000)
  --pid-file FILE    write the browser's process id (a process group leader) there
  --no-tidy          skip the HTML validity check
  --tidy-errors-only fail only on what tidy calls errors (default: also on the warnings
                     that mark invalid HTML: stray or missing end tags, duplicate ids...)
  --ignore-https-errors  accept the server's certificate whatever it is (self-signed test
                     certificates)
  --expect-protocol P  the page's navigation must use this protocol (performance
                     nextHopProtocol, e.g. h2): a "protocol" check per view
  --host-url URL     the iframe view's host page is this URL (a portal on another origin,
                     which the pages' CSP frame-ancestors allows) instead of about:blank;
                     requests to its origin are allowed
  --blocked-host-url URL  adds the view "iframe-blocked": the page embedded in a host page
                     at URL, whose origin frame-ancestors does not allow; it must not show
With an https --base-url two more checks per view: csp (no securitypolicyviolation event in
the page, each reported with its directive, blocked URI, place and element) and
mixed-content (no http request from the https page).`;

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const VIEWS = {
  390: { viewport: { width: 390, height: 844 } },
  1280: { viewport: { width: 1280, height: 900 } },
  iframe: { viewport: { width: 1024, height: 960 }, embedded: true },
  'iframe-blocked': { viewport: { width: 1024, height: 960 }, embedded: true, blocked: true },
};
const CHROMIUM_ARGS = [
  '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const MAX_PAGES = 500; // bound on pages per run
const MAX_SAMPLE_FILES = 1000000; // bound on files walked by --sample
const MAX_NODES_SHOWN = 5; // per axe violation
const QUIET_MS = 150; // network silence after the load event before a view is checked

class UsageError extends Error {}

// A view by name: the fixed ones above, a width ("320") or a narrow embed ("iframe-320").
function viewOf(name) {
  if (VIEWS[name]) return VIEWS[name];
  let m = /^(\d{3,4})$/.exec(name);
  if (m) return { viewport: { width: Number(m[1]), height: 800 } };
  m = /^iframe-(\d{3,4})$/.exec(name);
  if (m) return { viewport: { width: Number(m[1]), height: 800 }, embedded: true, narrow: true };
  return null;
}

function parseArgs(argv) {
  const o = {
    baseUrl: null, site: null, pages: [], sample: false, views: ['390', '1280', 'iframe'],
    embedPrefix: '', cutSelector: '[data-corte-hora]', cutText: null, cutDatetime: null,
    artifacts: 'out/browser-artifacts', fullPage: false,
    chromium: process.env.PREP_CHROMIUM || '/usr/lib/chromium/chromium-headless-shell',
    pageTimeout: 30000, totalTimeout: 600000, pidFile: null, tidy: true, tidyErrorsOnly: false,
    ignoreHttpsErrors: false, expectProtocol: null, hostUrl: null, blockedHostUrl: null,
    phoneChecks: false,
  };
  const num = (a, s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${a}: not a positive integer: ${s}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--base-url': o.baseUrl = v(); break;
      case '--site': o.site = v(); break;
      case '--pages-file':
        for (const line of fs.readFileSync(v(), 'utf8').split('\n')) {
          const t = line.trim();
          if (t && !t.startsWith('#')) o.pages.push(t);
        }
        break;
      case '--sample': o.sample = true; break;
      case '--views':
        o.views = v().split(',').filter(Boolean);
        for (const w of o.views) if (!viewOf(w)) throw new UsageError(`unknown view ${w}`);
        break;
      case '--widths': {
        const ws = v().split(',').filter(Boolean);
        for (const w of ws) if (!/^\d{3,4}$/.test(w)) throw new UsageError(`--widths: not a width: ${w}`);
        o.views = [...ws, ...ws.map((w) => `iframe-${w}`)];
        o.phoneChecks = true;
        break;
      }
      case '--phone-checks': o.phoneChecks = true; break;
      case '--embed-prefix': o.embedPrefix = v().replace(/^\/+/, ''); break;
      case '--cut-selector': o.cutSelector = v(); break;
      case '--cut-text': o.cutText = v(); break;
      case '--cut-datetime': o.cutDatetime = v(); break;
      case '--artifacts': o.artifacts = v(); break;
      case '--full-page': o.fullPage = true; break;
      case '--chromium': o.chromium = v(); break;
      case '--page-timeout': o.pageTimeout = num(a, v()); break;
      case '--total-timeout': o.totalTimeout = num(a, v()); break;
      case '--pid-file': o.pidFile = v(); break;
      case '--no-tidy': o.tidy = false; break;
      case '--tidy-errors-only': o.tidyErrorsOnly = true; break;
      case '--ignore-https-errors': o.ignoreHttpsErrors = true; break;
      case '--expect-protocol': o.expectProtocol = v(); break;
      case '--host-url': o.hostUrl = v(); break;
      case '--blocked-host-url': o.blockedHostUrl = v(); break;
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default:
        if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
        o.pages.push(a);
    }
  }
  if (!o.baseUrl) throw new UsageError('--base-url is required');
  let u;
  try {
    u = new URL(o.baseUrl);
  } catch {
    throw new UsageError(`bad --base-url ${o.baseUrl}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError('--base-url must be http(s)');
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  o.baseUrl = u.href;
  for (const k of ['hostUrl', 'blockedHostUrl']) {
    if (!o[k]) continue;
    try {
      o[k] = new URL(o[k]).href;
    } catch {
      throw new UsageError(`bad ${k === 'hostUrl' ? '--host-url' : '--blocked-host-url'} ${o[k]}`);
    }
  }
  if (o.views.includes('iframe-blocked') && !o.blockedHostUrl) throw new UsageError('view iframe-blocked needs --blocked-host-url');
  if (o.blockedHostUrl && !o.views.includes('iframe-blocked')) o.views.push('iframe-blocked');
  if ((o.sample || o.tidy) && !o.site) {
    if (o.sample) throw new UsageError('--sample needs --site');
    o.tidy = false;
    process.stdout.write('note: no --site, HTML validity (tidy) not checked\n');
  }
  if (o.sample) o.pages.push(...samplePages(o.site, o.embedPrefix));
  o.pages = [...new Set(o.pages.map(normPage))];
  if (o.pages.length === 0) throw new UsageError('no pages given');
  if (o.pages.length > MAX_PAGES) throw new UsageError(`more than ${MAX_PAGES} pages`);
  return o;
}

// "/gubernatura" -> "gubernatura/"; "" and "/" -> "" (home); file paths (.html) stay.
function normPage(p) {
  let s = p.trim().replace(/^\/+/, '');
  if (s.includes('..') || s.includes('\\')) throw new UsageError(`bad page path ${p}`);
  if (s && !s.endsWith('/') && !/\.html?$/.test(s)) s += '/';
  return s;
}

// Screenshot names: "" -> home, "a/b-01/" -> a_b-01.
function slug(page) {
  const s = page.replace(/\/index\.html?$/, '').replace(/\/+$/, '').replace(/\//g, '_');
  return s.replace(/[^A-Za-z0-9._-]/g, '-') || 'home';
}

// One page of every kind: every index.html under the site, grouped by a key made of its first
// path segment and, for each deeper segment, the segment's letters before its first digit
// (or "*" for a name with no digit, e.g. a municipio). The first path of each kind in sorted
// order is taken; the home page (if present) comes first. The embedded tree (--embed-prefix)
// is left out: the iframe view visits it for every sampled page.
function samplePages(site, embedPrefix) {
  const found = [];
  let walked = 0;
  const walk = (dir, rel) => {
    const ents = fs.readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    for (const e of ents) {
      if (++walked > MAX_SAMPLE_FILES) throw new UsageError(`--sample: more than ${MAX_SAMPLE_FILES} files`);
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) {
        if (embedPrefix && rel + e.name + '/' === embedPrefix) continue;
        walk(path.join(dir, e.name), rel + e.name + '/');
      }
      else if (e.name === 'index.html') found.push(rel);
    }
  };
  walk(site, '');
  const kinds = new Map();
  for (const p of found) {
    const segs = p.split('/').filter(Boolean);
    const key = segs.length === 0 ? '(home)'
      : [segs[0], ...segs.slice(1).map((s) => (/\d/.test(s) ? s.replace(/\d.*$/, '') + '#' : '*'))].join('/');
    if (!kinds.has(key)) kinds.set(key, p);
  }
  return [...kinds.values()];
}

// ---------------------------------------------------------------------------------------
// Results

const results = { passed: 0, failed: 0 };
function globalReport(ok, what, detail) {
  if (ok) results.passed++;
  else results.failed++;
  const line = `${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? (ok ? ` (${detail})` : `: ${detail}`) : ''}`;
  process.stdout.write(line + '\n');
}
const report = globalReport;
function summary() {
  process.stdout.write(`${results.passed} passed, ${results.failed} failed\n`);
}

// ---------------------------------------------------------------------------------------
// HTML validity

function pageFile(site, page) {
  return path.join(site, page === '' || page.endsWith('/') ? page + 'index.html' : page);
}

// tidy 5.6 calls few things errors (an unknown element is one; a stray end tag, a duplicate
// id or a misnested element are only "warnings"). These warnings mark markup that the HTML
// standard says is invalid, so they fail too (unless --tidy-errors-only). Other warnings
// (e.g. tidy 5.6 not knowing aria-current) are shown as a count and do not fail.
const TIDY_INVALID = [
  /discarding unexpected/, /missing <\/\w/, /inserting implicit/, /repeated attribute/,
  /unknown entity/, /missing <!DOCTYPE>/, /inserting missing 'title'/, /already defined/,
  /is not recognized/,
];

// HTML (WHATWG) lets a <div> wrap each name-value group of a <dl>; tidy 5.6 predates that and
// reports every such group as misnested. Tidy is given the same list without those <div>
// wrappers, so it still checks the rest of the list's markup.
// Columns in its messages inside a <dl> are then off by the removed tags' length.
function ungroupDl(html) {
  return html.replace(/<dl(\s[^>]*)?>[\s\S]*?<\/dl>/gi,
    (dl) => dl.replace(/<div(\s[^>]*)?>|<\/div>/gi, ''));
}

function checkTidy(opt, page) {
  const label = `${page || '/'} html-valid`;
  const file = pageFile(opt.site, page);
  if (!fs.existsSync(file)) return report(false, label, `no file ${file}`);
  const r = spawnSync('tidy', ['-errors', '-quiet', '-utf8'], {
    input: ungroupDl(fs.readFileSync(file, 'utf8')), encoding: 'utf8', timeout: 30000, maxBuffer: 64 << 20,
  });
  if (r.error) {
    return report(false, label, r.error.code === 'ENOENT' ? 'tidy is not installed (run scripts/setup.sh)' : r.error.message);
  }
  if (r.status !== 0 && r.status !== 1 && r.status !== 2) return report(false, label, `tidy exit ${r.status}: ${r.stderr}`);
  const lines = (r.stderr || '').split('\n').filter(Boolean);
  const bad = lines.filter((l) => / - Error: /.test(l)
    || (!opt.tidyErrorsOnly && / - Warning: /.test(l) && TIDY_INVALID.some((re) => re.test(l))));
  if (r.status === 2 && bad.length === 0) bad.push(...lines.filter((l) => !/ - Warning: /.test(l)));
  if (bad.length === 0) {
    return report(true, label, lines.length ? `${lines.length} other tidy warning(s)` : '');
  }
  const shown = bad.slice(0, 20).join('\n    ') + (bad.length > 20 ? `\n    (and ${bad.length - 20} more)` : '');
  return report(false, label, `${bad.length} problem(s) in ${file}:\n    ${shown}`);
}

// ---------------------------------------------------------------------------------------
// One page in one view

function hostHtml(src, narrow) {
  // A stand-in for a broadcaster's portal: another document that embeds the page. On a
  // phone (narrow) the portal gives the iframe its whole width, as news sites do.
  return `<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Portal anfitrión</title></head>
<body style="margin:0;padding:${narrow ? '0' : '16px'};background:#e8e8e8;color:#111;font-family:sans-serif">
<p>Portal anfitrión (otro sitio) con el PREP incrustado:</p>
<iframe id="prep" title="Resultados preliminares" src="${src.replace(/"/g, '&quot;')}"
 style="display:block;width:100%;max-width:720px;height:860px;border:${narrow ? '0' : '1px solid #333'};background:#fff"></iframe>
</body></html>`;
}

async function checkCutTime(frame, opt) {
  return frame.evaluate(({ sel, text, when }) => {
    const visible = (el) => {
      if (!el.getClientRects().length) return false;
      const cs = getComputedStyle(el);
      return cs.visibility !== 'hidden' && cs.display !== 'none';
    };
    if (text !== null) {
      const body = document.body ? document.body.innerText : '';
      return body.includes(text) ? { ok: true, shown: text } : { ok: false, why: `text "${text}" not in the page` };
    }
    const els = [...document.querySelectorAll(sel)];
    if (!els.length) return { ok: false, why: `no element matches ${sel}` };
    const stamps = [];
    for (const el of els) {
      if (el.hasAttribute('data-corte-hora') && !el.getAttribute('data-corte-hora').trim()) continue;
      const shown = (el.innerText || '').trim();
      if (!shown || !visible(el)) continue;
      if (when !== null) {
        const stamp = el.getAttribute('data-corte-hora') || el.getAttribute('datetime') || '';
        if (!stamp.startsWith(when)) { stamps.push(stamp); continue; }
      }
      return { ok: true, shown };
    }
    if (stamps.length) return { ok: false, why: `the cut shown is ${stamps.join(', ')}, not ${when}` };
    return { ok: false, why: `${els.length} element(s) match ${sel} but none is visible with text and a non-empty data-corte-hora` };
  }, { sel: opt.cutSelector, text: opt.cutText, when: opt.cutDatetime });
}

// axe-core's own bundle, evaluated in the page's main world through the browser protocol.
// Not page.addScriptTag: that inserts an inline <script>, which a page with a strict
// Content-Security-Policy (script-src 'self') refuses with a console error, failing the
// console check for a reason that is the harness's, not the page's.
// WCAG 2.1 1.4.10 Reflow (AA), which axe does not test: the page must not scroll sideways
// at its width (content that needs two dimensions, like a wide table, may scroll inside its
// own container). Names up to 3 elements that stick out, outside any scrolling container.
async function checkReflow(frame) {
  return frame.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const sw = document.documentElement.scrollWidth;
    if (sw <= vw + 1) return { ok: true };
    const inScroller = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const o = getComputedStyle(a).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
      }
      return false;
    };
    const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '')
      + [...el.classList].slice(0, 2).map((c) => `.${c}`).join('');
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0 && !inScroller(el)) {
        if (!out.some((o) => o.el.contains(el))) out.push({ el, w: Math.round(r.right) });
        if (out.length >= 3) break;
      }
    }
    return {
      ok: false,
      why: `the page is ${sw} px wide in a ${vw} px view` + (out.length ? `; sticking out: ${out.map((o) => `${name(o.el)} (to ${o.w} px)`).join(', ')}` : ''),
    };
  });
}

// The phone checks (--phone-checks), in the page's own frame:
//  numeric-one-line: every number or percentage in the text ("295,391", "56.9679%",
//    "2021-06-06") and every word of a table's column heading lies on one line: the range
//    over it has its client rects on one line (a number broken as "295,/391" has two);
//  overflow: the document is no wider than the view and no element scrolls sideways
//    (a wide table in a scrolling box is not a phone layout);
//  targets: every link, button and form control is at least 24 x 24 CSS px, unless one of
//    WCAG 2.2 2.5.8's exceptions applies: inline (a link inside a sentence: its block has
//    other text), spacing (a 24 px circle on its centre meets no other target nor another
//    small target's circle), or equivalent (another target on the page with the same href
//    passes; the map's municipality shapes, repeated as links in the table below them).
// Up to 5 offenders are named for each.
async function checkPhone(frame) {
  return frame.evaluate(() => {
    const SHOW = 5;
    const skip = (el) => el.closest('svg, code, pre, script, style, [hidden]');
    const lines = (range) => {
      const tops = [];
      for (const r of range.getClientRects()) {
        if (r.width < 0.5 || r.height < 0.5) continue;
        if (!tops.some((t) => Math.abs(t - r.bottom) < 2)) tops.push(r.bottom);
      }
      return tops.length;
    };
    const broken = [];
    const NUM = /[+\u2212-]?\d(?:[\d.,:/-]*\d)?(?:\s?%)?/g;
    const WORD = /\S+/g;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || skip(el) || !n.data.trim()) continue;
      const heading = el.closest('thead th, th[scope="col"]');
      const re = heading ? WORD : NUM;
      re.lastIndex = 0;
      for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        if (lines(r) > 1) broken.push(`"${m[0]}" in <${el.tagName.toLowerCase()}>`);
      }
    }
    const vw = window.innerWidth;
    const wide = [];
    if (document.documentElement.scrollWidth > vw) wide.push(`the document is ${document.documentElement.scrollWidth} px wide in a ${vw} px view`);
    const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '')
      + [...el.classList].slice(0, 2).map((c) => `.${c}`).join('');
    for (const el of document.body.querySelectorAll('*')) {
      if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
        const o = getComputedStyle(el).overflowX;
        if (o === 'auto' || o === 'scroll') wide.push(`${name(el)} scrolls sideways (${el.scrollWidth} px in ${el.clientWidth} px)`);
      }
    }
    const SEL = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [role="button"], [role="link"], [tabindex]:not([tabindex="-1"])';
    const targets = [];
    for (const el of document.querySelectorAll(SEL)) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.right < 0 || r.bottom < 0) continue; // not shown (skip link)
      targets.push({ el, r, small: r.width < 23.5 || r.height < 23.5 });
    }
    // Inside a sentence: an inline link whose nearest block holds other text too.
    const inline = (el) => {
      if (el.closest('svg') || getComputedStyle(el).display !== 'inline') return false;
      let b = el.parentElement;
      while (b && getComputedStyle(b).display === 'inline') b = b.parentElement;
      return !!b && (b.textContent || '').replace(/\s+/g, '').length > (el.textContent || '').replace(/\s+/g, '').length;
    };
    const centre = (r) => [r.left + r.width / 2, r.top + r.height / 2];
    const distRect = (p, r) => Math.hypot(Math.max(r.left - p[0], 0, p[0] - r.right), Math.max(r.top - p[1], 0, p[1] - r.bottom));
    const spaced = (t) => {
      const c = centre(t.r);
      return targets.every((o) => o === t || (distRect(c, o.r) >= 12
        && (!o.small || Math.hypot(c[0] - centre(o.r)[0], c[1] - centre(o.r)[1]) >= 24)));
    };
    const passing = new Set(targets.filter((t) => !t.small).map((t) => t.el.getAttribute('href')).filter(Boolean));
    const tiny = [];
    for (const t of targets) {
      if (!t.small || inline(t.el) || spaced(t)) continue;
      const href = t.el.getAttribute('href') || (t.el.getAttribute('xlink:href'));
      if (href && passing.has(href)) continue;
      tiny.push(`${name(t.el)}${href ? ` href="${href}"` : ''} "${(t.el.textContent || t.el.getAttribute('aria-label') || '').trim().slice(0, 30)}" ${Math.round(t.r.width)}x${Math.round(t.r.height)} px`);
    }
    const fmt = (a) => a.slice(0, SHOW).join('; ') + (a.length > SHOW ? `; and ${a.length - SHOW} more` : '');
    return {
      numeric: { ok: broken.length === 0, why: broken.length ? `${broken.length} split across lines: ${fmt(broken)}` : '' },
      overflow: { ok: wide.length === 0, why: fmt(wide) },
      targets: { ok: tiny.length === 0, why: tiny.length ? `${tiny.length} under 24x24 px: ${fmt(tiny)}` : `${targets.length} targets` },
    };
  });
}

const AXE_PATH = require.resolve('axe-core/axe.min.js');
const AXE_SOURCE = fs.readFileSync(AXE_PATH, 'utf8');

// What axe's verdict on a view depends on, besides the viewport's size: the document (its
// URL, and its DOM as the page's script left it, hashed) and which of its stylesheets'
// media queries apply. Two views with the same key differ in line breaks and box sizes
// only, which the phone and reflow checks measure in every view themselves; axe runs once
// per key and the later views report its verdict (browser_phones: the 320, 360 and 390 px
// views of a page are one key, below the pages' one breakpoint at 30rem; the Querétaro
// municipality page's axe run is 4-7 s of CPU in each).
// axe's verdicts of this run (one run a process) by axeKey: { violations, view }.
const axeVerdicts = new Map();

async function axeKey(frame, embedded) {
  const k = await frame.evaluate(() => {
    const media = [];
    const walk = (rules) => {
      for (const r of rules) {
        if (r.media && r.media.mediaText) media.push(`${r.media.mediaText}=${matchMedia(r.media.mediaText).matches}`);
        // a container query follows box sizes, not the media: such a page is keyed by width
        if (typeof r.containerQuery === 'string') media.push(`container ${r.containerQuery} @${innerWidth}px`);
        if (r.cssRules) walk(r.cssRules);
        if (r.styleSheet) try { walk(r.styleSheet.cssRules); } catch { media.push('(unreadable import)'); }
      }
    };
    for (const sh of document.styleSheets) {
      if (sh.media && sh.media.mediaText) media.push(`sheet ${sh.media.mediaText}=${matchMedia(sh.media.mediaText).matches}`);
      try { walk(sh.cssRules); } catch { media.push(`(unreadable sheet ${sh.href})`); }
    }
    // FNV-1a, two 32-bit lanes, over the serialized DOM
    const html = document.documentElement.outerHTML;
    let a = 0x811c9dc5, b = 0x01000193;
    for (let i = 0; i < html.length; i++) {
      const c = html.charCodeAt(i);
      a = Math.imul(a ^ c, 16777619);
      b = Math.imul(b ^ c, 2246822519);
    }
    return `${document.URL} ${html.length} ${(a >>> 0).toString(16)}${(b >>> 0).toString(16)} ${media.join(';')}`;
  });
  return `${embedded ? 'embedded' : 'top'} ${k}`;
}

async function runAxe(frame) {
  await frame.evaluate(`${AXE_SOURCE}\n;void 0`);
  return frame.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  }, AXE_TAGS);
}

function withTimeout(promise, ms, what) {
  let t;
  const timer = new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms); });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

// Results are held back until the view finishes, so a view abandoned after its time-out
// (state.abandoned) reports nothing late.
async function checkView(browser, opt, page, viewName, state) {
  const view = viewOf(viewName);
  const target = (view.embedded ? opt.embedPrefix : '') + page;
  const url = new URL(target, opt.baseUrl).href;
  const origin = new URL(opt.baseUrl).origin;
  const hostUrl = view.blocked ? opt.blockedHostUrl : (view.embedded ? opt.hostUrl : null);
  const hostOrigin = hostUrl ? new URL(hostUrl).origin : null;
  const label = `${page || '/'} @${viewName}`;
  const mixed = [];
  const foreign = [];
  const localErrors = [];
  const consoleErrors = [];
  const setCookies = [];
  const pending = [];
  let corteDate = null; // the Date of the first corte.json response the page's script received

  const allowed = (u) => {
    if (/^(data|blob|about):/.test(u)) return true;
    try {
      const o = new URL(u).origin;
      return o === origin || (hostOrigin !== null && o === hostOrigin);
    } catch {
      return false;
    }
  };

  const context = await browser.newContext({
    viewport: view.viewport, deviceScaleFactor: 1, locale: 'es-MX', timezoneId: 'America/Mexico_City',
    ignoreHTTPSErrors: opt.ignoreHttpsErrors,
  });
  state.context = context;
  const out = [];
  const report = (...a) => out.push(a);
  try {
    context.setDefaultTimeout(opt.pageTimeout);
    // Nothing leaves the machine: every request to another origin is recorded and aborted.
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (allowed(u)) return route.continue();
      return route.abort('blockedbyclient');
    });
    // A cookie written by script inside the embedded (third-party) iframe is dropped by
    // Chromium, so context.cookies() cannot see the attempt there: record every write of
    // document.cookie and every cookieStore.set in every frame, before any page script runs.
    await context.addInitScript(() => {
      const writes = [];
      Object.defineProperty(window, '__prepCookieWrites', { value: writes });
      const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
      if (d && d.set) {
        Object.defineProperty(Document.prototype, 'cookie', {
          configurable: true, enumerable: d.enumerable,
          get() { return d.get.call(this); },
          set(v) { writes.push(String(v).slice(0, 200)); d.set.call(this, v); },
        });
      }
      // Content-Security-Policy violations in this document, with what caused them.
      const csp = [];
      Object.defineProperty(window, '__prepCspViolations', { value: csp });
      document.addEventListener('securitypolicyviolation', (e) => {
        const t = e.target;
        let el = '';
        if (t && t.nodeType === 1) {
          el = ` element <${t.tagName.toLowerCase()}${t.id ? ` id="${t.id}"` : ''}${t.className && typeof t.className === 'string' ? ` class="${t.className}"` : ''}>`;
        }
        csp.push(`${e.effectiveDirective || e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`
          + ` at ${e.sourceFile || document.URL}:${e.lineNumber}:${e.columnNumber}${el}`
          + (e.sample ? ` sample "${e.sample}"` : ''));
      }, true);
      if (window.CookieStore && CookieStore.prototype.set) {
        const set = CookieStore.prototype.set;
        CookieStore.prototype.set = function (...a) {
          writes.push(`cookieStore.set ${JSON.stringify(a).slice(0, 200)}`);
          return set.apply(this, a);
        };
      }
    });
    // Requests in flight, for the wait once the page has loaded (below).
    let inflight = 0;
    let lastNet = Date.now();
    const netEvent = (d) => { inflight += d; lastNet = Date.now(); };
    context.on('request', (r) => {
      netEvent(1);
      if (!allowed(r.url())) foreign.push(r.url());
      // Mixed content: an https page (or the https frame inside a host) loading over http.
      const top = view.embedded ? url : r.frame() && r.frame().url();
      if (/^https:/.test(top || '') && /^http:/.test(r.url()) && !(hostUrl && r.url().startsWith(new URL(hostUrl).origin))) mixed.push(r.url());
    });
    context.on('requestfinished', () => netEvent(-1));
    context.on('requestfailed', (r) => {
      netEvent(-1);
      if (allowed(r.url()) && !/^(data|blob|about):/.test(r.url())) localErrors.push(`${r.url()} failed: ${r.failure() && r.failure().errorText}`);
    });
    context.on('response', (resp) => {
      if (corteDate === null && /\/corte\.json$/.test(resp.url().split('?')[0])) corteDate = resp.headers().date || '';
      if (allowed(resp.url()) && resp.status() >= 400) localErrors.push(`${resp.url()} answered ${resp.status()}`);
      pending.push(resp.headersArray().then((hs) => {
        for (const h of hs) if (h.name.toLowerCase() === 'set-cookie') setCookies.push(`${resp.url()}: ${h.value}`);
      }).catch(() => {}));
    });
    const pg = await context.newPage();
    pg.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`console.error: ${m.text()} (${(m.location() || {}).url || '?'})`); });
    pg.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    context.on('websocket', (ws) => foreign.push(`websocket ${ws.url()}`));
    pg.on('websocket', (ws) => foreign.push(`websocket ${ws.url()}`));

    let frame;
    if (view.embedded && hostUrl) {
      // A real host page on another origin: the iframe is added to it by script, so the
      // embedding document has the portal's origin (frame-ancestors checks that origin).
      const resp = await pg.goto(hostUrl, { waitUntil: 'load' });
      if (!resp || !resp.ok()) throw new Error(`GET ${hostUrl} answered ${resp ? resp.status() : 'nothing'}`);
      await pg.evaluate((src) => new Promise((resolve) => {
        const f = document.createElement('iframe');
        f.id = 'prep';
        f.title = 'Resultados preliminares';
        f.style.cssText = 'display:block;width:100%;max-width:720px;height:860px;border:1px solid #333;background:#fff';
        f.addEventListener('load', () => resolve(), { once: true });
        f.src = src;
        document.body.appendChild(f);
        setTimeout(resolve, 10000);
      }), url);
      const el = await pg.$('#prep');
      frame = el && (await el.contentFrame());
      if (!frame) throw new Error('the iframe has no document');
      if (view.blocked) {
        await pg.waitForTimeout(300);
        // Blocked by frame-ancestors, Chromium shows its own error document in the frame
        // (chrome-error://chromewebdata/): none of the page's content is there.
        let shown = null;
        try {
          shown = await frame.evaluate(() => (document.body ? document.body.innerText.length : 0) > 0
            && document.querySelector('.corte, [data-corte-hora], main') !== null);
        } catch { shown = false; }
        const refused = consoleErrors.filter((m) => /frame-ancestors/.test(m));
        const blocked = !shown && frame.url() !== url;
        report(blocked && refused.length > 0, `${label} frame-blocked`,
          blocked ? `frame at ${frame.url() || '(error page)'}; ${(refused[0] || 'no frame-ancestors console message').replace(/\s+/g, ' ')}`
            : `the page was shown inside ${hostOrigin} (frame URL ${frame.url()})`);
        fs.mkdirSync(opt.artifacts, { recursive: true });
        const bshot = path.join(opt.artifacts, `${slug(page)}-${viewName}.png`);
        await pg.screenshot({ path: bshot, fullPage: true });
        report(true, `${label} screenshot`, bshot);
        if (!state.abandoned) for (const a of out) globalReport(...a);
        return;
      }
      await frame.waitForLoadState('load');
    } else if (view.embedded) {
      await pg.setContent(hostHtml(url, view.narrow), { waitUntil: 'load' });
      const el = await pg.$('#prep');
      frame = el && (await el.contentFrame());
      if (!frame) throw new Error('the iframe has no document');
      await frame.waitForLoadState('load');
    } else {
      const resp = await pg.goto(url, { waitUntil: 'load' });
      if (!resp || !resp.ok()) throw new Error(`GET ${url} answered ${resp ? resp.status() : 'nothing'}`);
      frame = pg.mainFrame();
    }
    // Settled: no request in flight, and none begun or ended for QUIET_MS, at most 5 s. The
    // pages' one script (deferred) asks for corte.json before the load event, and the
    // faults the self-test plants (a fetch, an image) begin before it too. Playwright's
    // 'networkidle' waited 500 ms of silence in every view: 8.5 of browser_pages' ~20 s
    // of real-site views, idle time that held one of CI's two slots.
    for (const t = Date.now(); Date.now() - t < Math.min(5000, opt.pageTimeout);) {
      if (inflight <= 0 && Date.now() - lastNet >= QUIET_MS) break;
      await new Promise((r) => setTimeout(r, 20));
    }

    const cut = await checkCutTime(frame, opt);
    // The validity notice (docs/formats/site.md): shown by the page's own script exactly
    // when the server's clock (Date of corte.json) is past data-vigente-hasta. Over a real
    // server only (file:// has no Date). Judged on the script's own answer (the first
    // corte.json response to the page, and its Date), once it is in, so that "hidden" means
    // decided, not yet to come.
    let stale = null;
    if (/^https?:/.test(origin) && await frame.evaluate(() => document.getElementById('desactualizado') !== null)) {
      for (let t = Date.now(); corteDate === null && Date.now() - t < 6000;) await new Promise((r) => setTimeout(r, 100));
      stale = corteDate === null ? { ok: false, why: 'the page\'s script never fetched corte.json' } : await frame.evaluate(async (date) => {
        const s = document.getElementById('desactualizado');
        const v = Date.parse(s.getAttribute('data-vigente-hasta') || '');
        const d = Date.parse(date);
        if (Number.isNaN(v) || Number.isNaN(d)) return { ok: false, why: `unreadable times: vigente-hasta ${s.getAttribute('data-vigente-hasta')}, Date ${date}` };
        const want = d > v;
        // the script's own answer is in: its handler runs at once (a short wait for a hidden one)
        for (let i = 0; i < 20 && (want ? s.hidden : i < 3); i++) await new Promise((r) => setTimeout(r, 100));
        return s.hidden !== want ? { ok: true, shown: want ? 'notice shown (cut past its horizon)' : 'notice hidden (cut current)' }
          : { ok: false, why: `server Date ${new Date(d).toISOString()} vs vigente-hasta ${new Date(v).toISOString()}: notice should be ${want ? 'shown' : 'hidden'}` };
      }, corteDate);
    }
    const reflow = await checkReflow(frame);
    const phone = opt.phoneChecks ? await checkPhone(frame) : null;
    const key = await axeKey(frame, !!view.embedded);
    const seen = axeVerdicts.get(key);
    const violations = seen ? seen.violations : await runAxe(frame);
    if (!seen) axeVerdicts.set(key, { violations, view: viewName });

    await Promise.all(pending);
    const cookies = await context.cookies();
    const cookieWrites = await frame.evaluate(() => window.__prepCookieWrites || []);
    const cspViolations = await frame.evaluate(() => window.__prepCspViolations || []);
    const proto = opt.expectProtocol
      ? await frame.evaluate(() => { const e = performance.getEntriesByType('navigation')[0]; return e ? e.nextHopProtocol : ''; })
      : null;

    report(consoleErrors.length === 0, `${label} console`, consoleErrors.join('; '));
    report(foreign.length === 0 && localErrors.length === 0, `${label} requests`,
      [...foreign.map((u) => `request to another origin: ${u}`), ...localErrors].join('; '));
    report(cookies.length === 0 && setCookies.length === 0 && cookieWrites.length === 0, `${label} cookies`,
      [...cookies.map((c) => `cookie ${c.name} for ${c.domain}`), ...setCookies.map((s) => `Set-Cookie ${s}`),
        ...cookieWrites.map((w) => `script wrote cookie ${w}`)].join('; '));
    // Over https only (a real server with its real policy), so the http runs keep their checks.
    if (origin.startsWith('https:')) {
      report(cspViolations.length === 0, `${label} csp`, cspViolations.length
        ? `${cspViolations.length} violation(s): ${cspViolations.slice(0, 5).join('; ')}` : '');
      report(mixed.length === 0, `${label} mixed-content`, mixed.length ? `http requests from an https page: ${mixed.slice(0, 5).join(', ')}` : '');
    }
    if (opt.expectProtocol) report(proto === opt.expectProtocol, `${label} protocol`, proto === opt.expectProtocol ? proto : `nextHopProtocol "${proto}", expected "${opt.expectProtocol}"`);
    report(cut.ok, `${label} cut-time`, cut.ok ? cut.shown.slice(0, 80) : cut.why);
    if (stale) report(stale.ok, `${label} validity-notice`, stale.ok ? stale.shown : stale.why);
    report(reflow.ok, `${label} reflow`, reflow.ok ? '' : reflow.why);
    if (phone) {
      report(phone.numeric.ok, `${label} numeric-one-line`, phone.numeric.why);
      report(phone.overflow.ok, `${label} overflow`, phone.overflow.why);
      report(phone.targets.ok, `${label} targets`, phone.targets.why);
    }
    const vtext = violations.map((v) => {
      const shown = v.targets.slice(0, MAX_NODES_SHOWN).map((t) => `\n      at ${t}`).join('');
      const more = v.targets.length > MAX_NODES_SHOWN ? `\n      (and ${v.targets.length - MAX_NODES_SHOWN} more)` : '';
      return `\n    ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})${shown}${more}`;
    }).join('');
    const as = seen ? `; axe ran @${seen.view} on the same document and media queries` : '';
    report(violations.length === 0, `${label} axe`, violations.length ? `${violations.length} violation(s)${as}:${vtext}` : `0 violations${as}`);
    // The first screen, as a reader sees it; the whole page when a check of this view failed
    // or --full-page (the whole Querétaro municipality page, 67,000 px tall at 390 px, took
    // 2.7 s, its first screen 0.09 s).
    fs.mkdirSync(opt.artifacts, { recursive: true });
    const shot = path.join(opt.artifacts, `${slug(page)}-${viewName}.png`);
    const whole = opt.fullPage || out.some((a) => !a[0]);
    await pg.screenshot({ path: shot, fullPage: whole });
    report(true, `${label} screenshot`, `${shot} (${whole ? 'whole page' : 'first screen'})`);
    if (!state.abandoned) for (const a of out) globalReport(...a);
  } finally {
    await withTimeout(context.close(), 10000, 'closing the page').catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------

// The browser's main process: the child of this process that Playwright spawned (as a
// process group leader). Used to kill Chromium if closing it does not work.
function childPids() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

let browser = null;
let browserPids = [];
function killBrowser() {
  // Also children that appeared since launch (or a launch that has not returned yet).
  for (const pid of new Set([...browserPids, ...childPids()])) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

async function main() {
  let opt;
  try {
    opt = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError) && e.code !== 'ENOENT') throw e;
    process.stderr.write(`run.js: ${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const started = Date.now();
  const overall = setTimeout(() => {
    report(false, 'overall', `the run took more than ${opt.totalTimeout} ms`);
    killBrowser();
    summary();
    process.exit(1);
  }, opt.totalTimeout);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killBrowser();
      process.stdout.write(`interrupted by ${sig}\n`);
      summary();
      process.exit(1);
    });
  }
  process.on('exit', () => {
    killBrowser();
    // The browser is gone: drop its pids so that no one kills a reused pid later.
    if (opt.pidFile) try { fs.unlinkSync(opt.pidFile); } catch { /* none */ }
  });

  process.stdout.write(`pages (${opt.pages.length}): ${opt.pages.map((p) => p || '/').join(' ')}\n`);
  process.stdout.write(`views: ${opt.views.join(' ')}; server ${opt.baseUrl}; screenshots in ${opt.artifacts}\n`);

  if (opt.tidy) {
    for (const p of opt.pages) {
      checkTidy(opt, p);
      if (opt.embedPrefix && opt.views.includes('iframe')) checkTidy(opt, opt.embedPrefix + p);
    }
  }

  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch {
    report(false, 'setup', 'playwright-core is not installed (npm ci --prefix tests/browser, or scripts/setup.sh)');
    summary();
    process.exit(1);
  }
  if (!fs.existsSync(opt.chromium)) {
    report(false, 'setup', `no browser at ${opt.chromium} (apt-get install chromium-headless-shell, or scripts/setup.sh)`);
    summary();
    process.exit(1);
  }
  try {
    browser = await withTimeout(chromium.launch({
      executablePath: opt.chromium, headless: true, args: CHROMIUM_ARGS,
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false, timeout: 60000,
    }), 70000, 'launching Chromium');
    browserPids = childPids();
    if (opt.pidFile) fs.writeFileSync(opt.pidFile, browserPids.join('\n') + '\n');
  } catch (e) {
    report(false, 'setup', `cannot start ${opt.chromium}: ${e.message.split('\n')[0]}`);
    killBrowser();
    summary();
    process.exit(1);
  }

  for (const page of opt.pages) {
    for (const v of opt.views) {
      const state = { abandoned: false, context: null };
      try {
        await withTimeout(checkView(browser, opt, page, v, state), opt.pageTimeout, `${page || '/'} @${v}`);
      } catch (e) {
        state.abandoned = true;
        if (state.context) await withTimeout(state.context.close(), 10000, 'closing').catch(() => {});
        report(false, `${page || '/'} @${v} load`, e.message.split('\n')[0]);
      }
    }
  }

  await withTimeout(browser.close(), 15000, 'closing Chromium').catch(() => {});
  killBrowser();
  clearTimeout(overall);
  process.stdout.write(`browser checks took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  summary();
  process.exit(results.failed ? 1 : 0);
}

main().catch((e) => {
  report(false, 'runner', e.stack || String(e));
  killBrowser();
  summary();
  process.exit(1);
});
