import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import t from 'tap';
import { buildOtpauthUrl, renderQrCode } from '../lib/index.js';
import { generateTotpSecret } from '../lib/crypto.js';

// jsqr is CommonJS with an `exports.default`; from ESM the function sits one level down.
const jsQR = jsQRModule.default;

function decodePngDataUrl(dataUrl: string): string | undefined {
  const prefix = 'data:image/png;base64,';
  if (!dataUrl.startsWith(prefix)) throw new Error('not a PNG data URL');
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), 'base64'));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

t.test('the otpauth URL names issuer, account, SHA1, 6 digits, 30 s and a 160-bit secret', async (t) => {
  const secret = generateTotpSecret();
  t.match(secret, /^[A-Z2-7]{32}$/, '32 base32 characters = 160 bits');
  const url = new URL(buildOtpauthUrl({ secret, issuer: 'Example App', accountName: 'alice@example.test' }));
  t.equal(url.protocol, 'otpauth:');
  t.equal(url.host, 'totp');
  t.match(decodeURIComponent(url.pathname), /Example App:alice@example.test/);
  t.equal(url.searchParams.get('secret'), secret);
  t.equal(url.searchParams.get('issuer'), 'Example App');
  t.equal(url.searchParams.get('algorithm'), 'SHA1');
  t.equal(url.searchParams.get('digits'), '6');
  t.equal(url.searchParams.get('period'), '30');
});

t.test('the PNG QR code decodes back to exactly the otpauth URL', async (t) => {
  const url = buildOtpauthUrl({ secret: generateTotpSecret(), issuer: 'Example & Co', accountName: 'bob' });
  const { pngDataUrl, svg } = await renderQrCode(url);
  t.equal(decodePngDataUrl(pngDataUrl), url);
  t.match(svg, /^<svg[^>]*viewBox/);
});
