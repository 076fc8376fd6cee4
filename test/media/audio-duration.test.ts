import { describe, expect, it } from 'vitest';
import { estimatedAudioSeconds, oggDurationSeconds } from '../../src/media/audio-duration.js';

/** One Ogg page: capture pattern, version, header type, granule position, then a payload (no real CRC needed here). */
function oggPage(granule: bigint, payload: Buffer): Buffer {
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header.writeBigInt64LE(granule, 6);
  return Buffer.concat([header, payload]);
}

describe('audio length from the file', () => {
  it('reads an Ogg Opus file: the last granule at 48 kHz, less the pre-skip', () => {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head.writeUInt16LE(312, 10);
    const file = Buffer.concat([oggPage(0n, head), oggPage(48_000n * 5n + 312n, Buffer.from('audio'))]);
    expect(oggDurationSeconds(file)).toBe(5);
  });

  it('reads an Ogg Vorbis file at its own rate', () => {
    const id = Buffer.alloc(30);
    id.write('\u0001vorbis', 0, 'latin1');
    id.writeUInt32LE(44_100, 12);
    const file = Buffer.concat([oggPage(0n, id), oggPage(44_100n * 3n, Buffer.from('audio'))]);
    expect(oggDurationSeconds(file)).toBe(3);
  });

  it('says nothing for what is not Ogg, and estimates from the size (at least a second)', () => {
    expect(oggDurationSeconds(Buffer.from('ID3 an mp3 file with some bytes in it'))).toBeNull();
    expect(estimatedAudioSeconds(20_000)).toBe(10);
    expect(estimatedAudioSeconds(10)).toBe(1);
  });
});
