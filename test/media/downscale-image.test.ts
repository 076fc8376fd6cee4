/** Photos shrunk to a model's working size with sharp: real images made by sharp itself. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageForModel, MODEL_IMAGE_EDGE } from '../../src/media/downscale-image.js';

async function photo(width: number, height: number, orientation?: number): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: '#3366cc' } }).jpeg();
  return (orientation ? image.withMetadata({ orientation }) : image).toBuffer();
}

describe('imageForModel', () => {
  it("shrinks a phone photo to the model's edge, keeping its proportions, as JPEG", async () => {
    const image = await imageForModel(await photo(4032, 3024));
    expect(image).toMatchObject({ contentType: 'image/jpeg', width: MODEL_IMAGE_EDGE, height: 1176 });
    const decoded = await sharp(image.bytes).metadata();
    expect([decoded.format, decoded.width, decoded.height]).toEqual(['jpeg', 1568, 1176]);
  });

  it('leaves a small image at its size', async () => {
    expect(await imageForModel(await photo(640, 480))).toMatchObject({ width: 640, height: 480 });
  });

  it('turns a photo taken sideways upright (EXIF orientation 6: rotate 90°)', async () => {
    const image = await imageForModel(await photo(2000, 1000, 6));
    expect([image.width, image.height]).toEqual([784, 1568]);
  });

  it('keeps transparency as PNG (a sticker)', async () => {
    const sticker = await sharp({
      create: { width: 512, height: 512, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .webp()
      .toBuffer();
    expect(await imageForModel(sticker)).toMatchObject({ contentType: 'image/png', width: 512 });
  });

  it('refuses bytes that are not an image', async () => {
    await expect(imageForModel(Buffer.from('definitely not an image'))).rejects.toThrow();
  });
});
