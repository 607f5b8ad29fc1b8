import QRCode from 'qrcode';

/** A QR code in the two forms a page can show: a PNG data URL and inline SVG markup. */
export interface QrCodeImages {
  pngDataUrl: string;
  svg: string;
}

/** Renders `text` (an `otpauth://` URL) as a QR code with error correction level M. */
export async function renderQrCode(text: string): Promise<QrCodeImages> {
  const options = { errorCorrectionLevel: 'M', margin: 2 } as const;
  const [pngDataUrl, svg] = await Promise.all([
    QRCode.toDataURL(text, { ...options, type: 'image/png', scale: 6 }),
    QRCode.toString(text, { ...options, type: 'svg' }),
  ]);
  return { pngDataUrl, svg };
}
