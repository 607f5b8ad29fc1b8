import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import t from 'tap';
import { buildOtpauthUrl, renderQrCode } from '../lib/index.js';
import { generateTotpSecret } from '../lib/crypto.js';

// jsqr is CommonJS with an `exports.default`; from ESM the function sits one level down.
const jsQR = jsQRModule.default;

/** ISO/IEC 18004: four light modules on every side. */
const QUIET_ZONE_MODULES = 4;
/** Pixels per module in the PNG (the `scale` the library renders with). */
const MODULE_PIXELS = 6;

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function readPng(dataUrl: string): PNG {
  const prefix = 'data:image/png;base64,';
  if (!dataUrl.startsWith(prefix)) throw new Error('not a PNG data URL');
  return PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), 'base64'));
}

function pixel(png: PNG, x: number, y: number): [number, number, number, number] {
  const at = (y * png.width + x) * 4;
  return [png.data[at]!, png.data[at + 1]!, png.data[at + 2]!, png.data[at + 3]!];
}

/** The smallest box holding every dark pixel (inclusive bounds). */
function darkPixelBox(png: PNG): Box {
  const box = { left: png.width, top: png.height, right: -1, bottom: -1 };
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const [r, g, b] = pixel(png, x, y);
      if (r + g + b >= 3 * 128) continue;
      box.left = Math.min(box.left, x);
      box.top = Math.min(box.top, y);
      box.right = Math.max(box.right, x);
      box.bottom = Math.max(box.bottom, y);
    }
  }
  return box;
}

/**
 * The dark modules of the library's SVG: one path of horizontal strokes along
 * each row's middle (`M x y+0.5`, `m dx dy`, `h n`). Returns the box of module
 * cells they cover (right and bottom exclusive) and the viewBox size.
 */
function svgDarkModuleBox(svg: string): { size: number; box: Box; background: string | undefined } {
  const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const background = /<path fill="(#[0-9a-f]+)" d="M0 0h(\d+)v\2H0z"\/>/.exec(svg);
  const strokes = /<path stroke="#000000" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  const box = { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
  let x = 0;
  let y = 0;
  for (const [, command, args] of strokes.matchAll(/([MmHh])([^MmHh]*)/g)) {
    const numbers = args!.trim().split(/[\s,]+/).map(Number);
    if (command === 'M') [x, y] = [numbers[0]!, numbers[1]!];
    else if (command === 'm') [x, y] = [x + numbers[0]!, y + numbers[1]!];
    else {
      const to = command === 'h' ? x + numbers[0]! : numbers[0]!;
      const row = Math.floor(y);
      box.left = Math.min(box.left, x, to);
      box.right = Math.max(box.right, x, to);
      box.top = Math.min(box.top, row);
      box.bottom = Math.max(box.bottom, row + 1);
      x = to;
    }
  }
  return { size, box, background: background && Number(background[2]) === size ? background[1] : undefined };
}

const urls = [
  buildOtpauthUrl({ secret: generateTotpSecret(), issuer: 'Example App', accountName: 'alice@example.test' }),
  buildOtpauthUrl({ secret: generateTotpSecret(), issuer: 'A much longer issuer name & Co', accountName: 'a.very.long.account.name+tag@example.test' }),
];

t.test('the PNG has a quiet zone of at least 4 modules (24 px) of white on every side', async (t) => {
  for (const url of urls) {
    const png = readPng((await renderQrCode(url)).pngDataUrl);
    const box = darkPixelBox(png);
    const margins = { left: box.left, top: box.top, right: png.width - 1 - box.right, bottom: png.height - 1 - box.bottom };
    for (const [side, pixels] of Object.entries(margins)) {
      t.ok(pixels >= QUIET_ZONE_MODULES * MODULE_PIXELS, `${side}: ${pixels} px`);
    }
    let notWhite = 0;
    for (let y = 0; y < png.height; y++) {
      for (let x = 0; x < png.width; x++) {
        const inside = x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
        if (!inside && pixel(png, x, y).some((channel) => channel !== 255)) notWhite++;
      }
    }
    t.equal(notWhite, 0, 'every margin pixel is opaque white');
    t.equal(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data, url, 'and it still decodes to the URL');
  }
});

t.test('the SVG has the same 4-module quiet zone, on a white background', async (t) => {
  for (const url of urls) {
    const { size, box, background } = svgDarkModuleBox((await renderQrCode(url)).svg);
    t.ok(size > 2 * QUIET_ZONE_MODULES + 21, `viewBox ${size} modules`);
    t.equal(background, '#ffffff', 'a white rectangle covers the whole viewBox');
    t.ok(box.left >= QUIET_ZONE_MODULES, `left: ${box.left} modules`);
    t.ok(box.top >= QUIET_ZONE_MODULES, `top: ${box.top} modules`);
    t.ok(size - box.right >= QUIET_ZONE_MODULES, `right: ${size - box.right} modules`);
    t.ok(size - box.bottom >= QUIET_ZONE_MODULES, `bottom: ${size - box.bottom} modules`);
  }
});
