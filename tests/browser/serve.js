#!/usr/bin/env node
// Tiny static file server for the browser tests: serves one site directory on 127.0.0.1 only.
// Stand-in until `prep serve` exists; it sends no cookies and no caching headers.
//
// Usage: node serve.js --root DIR [--port N] [--port-file FILE] [--log FILE] [--gzip]
//   --gzip: text files (html, css, js, json, svg, csv, txt) go gzip-compressed to a client
//   that accepts it, as prep serve (brotli or gzip) and Apache (mod_deflate) send them;
//   the Lighthouse check (lighthouse.sh) uses it so that it measures what a reader gets.
//   --port 0 (the default) takes a free port; the chosen port is printed on stdout as
//   "listening http://127.0.0.1:PORT/" and written alone to --port-file (written to a
//   temporary name and renamed, so a reader never sees a partial file).
// Paths: "/a/b/" serves a/b/index.html; "/a/b" that is a directory redirects (301) to "/a/b/".
// Only GET and HEAD; anything outside the root (after decoding, "..", symlinks) is 404.
// Limits: request paths over 2048 bytes are refused (414); files over 64 MiB are refused (500).
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.br': 'application/octet-stream',
  '.sig': 'application/octet-stream',
  '.pub': 'text/plain; charset=utf-8',
  '.sha256': 'text/plain; charset=utf-8',
};
const MAX_PATH = 2048;
const MAX_FILE = 64 * 1024 * 1024;

function parseArgs(argv) {
  const o = { root: null, port: 0, portFile: null, log: null, gzip: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--root') o.root = v();
    else if (a === '--port') o.port = Number(v());
    else if (a === '--port-file') o.portFile = v();
    else if (a === '--log') o.log = v();
    else if (a === '--gzip') o.gzip = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.root) throw new Error('--root DIR is required');
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error('bad --port');
  return o;
}

function contentType(file) {
  return TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
}

function main() {
  let opt;
  try {
    opt = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`serve.js: ${e.message}\n`);
    process.exit(2);
  }
  const root = fs.realpathSync(opt.root);
  const logStream = opt.log ? fs.createWriteStream(opt.log, { flags: 'a' }) : null;

  const server = http.createServer((req, res) => {
    const send = (status, headers, body) => {
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      if (logStream) logStream.write(`${status} ${req.method} ${req.url}\n`);
    };
    const plain = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, { ...plain, Allow: 'GET, HEAD' }, 'method not allowed\n');
    }
    if (req.url.length > MAX_PATH) return send(414, plain, 'path too long\n');
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://127.0.0.1/').pathname);
    } catch {
      return send(400, plain, 'bad path\n');
    }
    if (rel.includes('\0')) return send(400, plain, 'bad path\n');
    let file = path.join(root, path.normalize(rel));
    let real;
    try {
      real = fs.realpathSync(file);
    } catch {
      return send(404, plain, 'not found\n');
    }
    if (real !== root && !real.startsWith(root + path.sep)) return send(404, plain, 'not found\n');
    let st = fs.statSync(real);
    if (st.isDirectory()) {
      if (!rel.endsWith('/')) {
        const q = req.url.indexOf('?');
        const loc = (q < 0 ? req.url : req.url.slice(0, q)) + '/' + (q < 0 ? '' : req.url.slice(q));
        return send(301, { ...plain, Location: loc }, 'moved\n');
      }
      real = path.join(real, 'index.html');
      try {
        st = fs.statSync(real);
      } catch {
        return send(404, plain, 'not found\n');
      }
    }
    if (!st.isFile()) return send(404, plain, 'not found\n');
    if (st.size > MAX_FILE) return send(500, plain, 'file too large for the test server\n');
    let body;
    try {
      body = fs.readFileSync(real);
    } catch {
      return send(404, plain, 'not found\n');
    }
    const type = contentType(real);
    const extra = {};
    if (opt.gzip && /^(text\/|application\/json|image\/svg)/.test(type)) {
      extra.Vary = 'Accept-Encoding';
      if (/\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
        body = zlib.gzipSync(body, { level: 9 });
        extra['Content-Encoding'] = 'gzip';
      }
    }
    return send(200, {
      ...extra,
      'Content-Type': type,
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    }, body);
  });

  server.on('error', (e) => {
    process.stderr.write(`serve.js: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(opt.port, '127.0.0.1', () => {
    const port = server.address().port;
    if (opt.portFile) {
      fs.writeFileSync(opt.portFile + '.tmp', `${port}\n`);
      fs.renameSync(opt.portFile + '.tmp', opt.portFile);
    }
    process.stdout.write(`listening http://127.0.0.1:${port}/\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
