/**
 * Photos are shrunk before they go to a vision model: providers bill by pixels and gain nothing past their own
 * working size (Anthropic: about 1,568 px on the long edge; OpenAI's high detail: 2,048 px, then 768 px on the
 * short edge), and a 12-megapixel phone photo would be several MB of base64 in every request. sharp (libvips,
 * prebuilt, no install step) is loaded only when an image is handled.
 */
export interface ModelImage {
  bytes: Buffer;
  /** image/jpeg, or image/png when the picture has transparency worth keeping (a sticker). */
  contentType: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
}

/** Longest edge sent to a model; both providers' useful size fits in it. */
export const MODEL_IMAGE_EDGE = 1568;

export async function imageForModel(bytes: Uint8Array, maxEdge = MODEL_IMAGE_EDGE): Promise<ModelImage> {
  const { default: sharp } = await import('sharp');
  // rotate() applies the EXIF orientation, so a phone photo is not sent sideways; limitInputPixels bounds the
  // memory a crafted image can make libvips allocate.
  const image = sharp(bytes, { limitInputPixels: 50_000_000 }).rotate();
  const { hasAlpha } = await image.metadata();
  const resized = image.resize(maxEdge, maxEdge, { fit: 'inside', withoutEnlargement: true });
  const { data, info } = await (
    hasAlpha ? resized.png({ compressionLevel: 9 }) : resized.jpeg({ quality: 82, mozjpeg: true })
  ).toBuffer({ resolveWithObject: true });
  return {
    bytes: data,
    contentType: hasAlpha ? 'image/png' : 'image/jpeg',
    width: info.width,
    height: info.height,
  };
}
