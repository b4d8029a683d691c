// Draws resources/icon.png (512x512, the size electron-builder needs for every platform)
// with nothing but node:zlib, so the icon can be regenerated anywhere:
//   node scripts/make-icon.js
// A rounded indigo square with three staff lines and a note: "Symphony".
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const SAMPLES = 4; // 4x4 supersampling for smooth edges

function insideRoundedSquare(x, y) {
  const margin = 24;
  const radius = 96;
  const lo = margin + radius;
  const hi = SIZE - margin - radius;
  const dx = Math.max(lo - x, 0, x - hi);
  const dy = Math.max(lo - y, 0, y - hi);
  return x >= margin && x <= SIZE - margin && y >= margin && y <= SIZE - margin && dx * dx + dy * dy <= radius * radius;
}

function insideMark(x, y) {
  const staff = [196, 256, 316].some((lineY) => x >= 104 && x <= 408 && Math.abs(y - lineY) <= 9);
  const head = ((x - 232) / 46) ** 2 + ((y - 344) / 34) ** 2 <= 1;
  const stem = x >= 264 && x <= 282 && y >= 132 && y <= 340;
  const flag = x >= 264 && x <= 360 && y >= 132 && y <= 132 + 30 - (x - 264) * 0.12;
  return staff || head || stem || flag;
}

const BACKGROUND = [79, 70, 229];
const MARK = [255, 255, 255];

function pixel(px, py) {
  let square = 0;
  let mark = 0;
  for (let sy = 0; sy < SAMPLES; sy += 1) {
    for (let sx = 0; sx < SAMPLES; sx += 1) {
      const x = px + (sx + 0.5) / SAMPLES;
      const y = py + (sy + 0.5) / SAMPLES;
      if (!insideRoundedSquare(x, y)) continue;
      square += 1;
      if (insideMark(x, y)) mark += 1;
    }
  }
  const total = SAMPLES * SAMPLES;
  const t = square ? mark / square : 0;
  const rgb = BACKGROUND.map((c, i) => Math.round(c + (MARK[i] - c) * t));
  return [...rgb, Math.round((255 * square) / total)];
}

function crc32(buffer) {
  let crc = ~0;
  for (const byte of buffer) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const rows = [];
for (let y = 0; y < SIZE; y += 1) {
  const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0, then RGBA
  for (let x = 0; x < SIZE; x += 1) Buffer.from(pixel(x, y)).copy(row, 1 + x * 4);
  rows.push(row);
}
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(new URL('../resources/icon.png', import.meta.url), png);
console.log(`resources/icon.png: ${SIZE}x${SIZE}, ${png.length} bytes`);
