#!/usr/bin/env node
// Test helper: decode an ESC/POS byte stream with npos (a parser Seira did not write) and
// print JSON on stdout:
//   {"commands": [{"ascii": "GS", "fn": "v0", "offset": 1, "length": 41503}, ...],
//    "rasters": [{"width": 576, "height": 1040, "bits": "<base64, 1 = dark, rows padded
//                 to whole bytes, most significant bit first>"}, ...],
//    "qr": [{"fn": 80, "data": "https://..."}]}      (from GS ( k, which npos lacks)
// Usage: node decode.js FILE
'use strict';

const fs = require('fs');
const npos = require('npos');

// npos has no rule for GS ( k (2D codes). Like GS ( L it is a 16-bit length-prefixed
// command, so the builtin 'd16' splitter reads it; the rule table is extended here.
npos.rules[npos.symbols.GS]['(k'] = [0, 'd16'];

const raw = fs.readFileSync(process.argv[2]);

function qrCommands(tree) {
  // GS ( k pL pH cn fn [m] data: the payload of "store data" (cn=49, fn=80) is the content.
  return tree
    .filter((n) => n.ascii === 'GS' && n.fn === '(k')
    .map((n) => {
      const start = n.offset + 3; // GS ( k
      const len = raw.readUInt16LE(start);
      const body = raw.subarray(start + 2, start + 2 + len);
      const fn = body[1];
      const data = fn === 80 ? body.subarray(3).toString('utf8') : null; // skip cn fn m
      return { cn: body[0], fn, data };
    });
}

function packRaster(bitmap) {
  const rowBytes = Math.ceil(bitmap.width / 8);
  const out = Buffer.alloc(rowBytes * bitmap.height);
  for (let y = 0; y < bitmap.height; y++) {
    for (let x = 0; x < bitmap.width; x++) {
      if (bitmap.getPixel(x, y) === 0) out[y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return { width: bitmap.width, height: bitmap.height, bits: out.toString('base64') };
}

npos.parser(npos.rules).parse(raw).then(
  (ast) => {
    const result = {
      commands: ast.tree.map((n) => ({
        ascii: n.ascii, fn: n.fn === undefined ? null : n.fn, offset: n.offset, length: n.length,
      })),
      rasters: ast.entries.filter((e) => e.type === 'raster').map((e) => packRaster(e.data)),
      qr: qrCommands(ast.tree),
    };
    process.stdout.write(JSON.stringify(result));
  },
  (err) => {
    process.stderr.write(`npos could not parse ${process.argv[2]}: ${err.message}\n`);
    process.exit(1);
  },
);
