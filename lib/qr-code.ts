import QRCode from 'qrcode';

/** A QR code in the two forms a page can show: a PNG data URL and inline SVG markup. */
export interface QrCodeImages {
  pngDataUrl: string;
  svg: string;
}

/**
 * Light modules around the symbol: ISO/IEC 18004 requires four. With less,
 * some phone cameras (and the page's own background, if it is not white)
 * keep an authenticator app from finding the code.
 */
export const QR_QUIET_ZONE_MODULES = 4;
/** Pixels per module in the PNG. */
export const QR_PNG_MODULE_PIXELS = 6;

/** Renders `text` (an `otpauth://` URL) as a QR code with error correction level M, black on white. */
export async function renderQrCode(text: string): Promise<QrCodeImages> {
  const options = {
    errorCorrectionLevel: 'M',
    margin: QR_QUIET_ZONE_MODULES,
    color: { dark: '#000000ff', light: '#ffffffff' },
  } as const;
  const [pngDataUrl, svg] = await Promise.all([
    QRCode.toDataURL(text, { ...options, type: 'image/png', scale: QR_PNG_MODULE_PIXELS }),
    QRCode.toString(text, { ...options, type: 'svg' }),
  ]);
  return { pngDataUrl, svg };
}
