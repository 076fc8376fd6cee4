/**
 * How long a voice note is, read from the file itself when the transcription answer does not say (only
 * whisper-1's JSON carries `usage: {type: "duration", seconds}`; gpt-4o-*-transcribe bill tokens; local servers
 * often say nothing). WhatsApp voice notes are Ogg Opus: the last page's granule position counts 48 kHz
 * samples, less the pre-skip of the OpusHead packet. Ogg Vorbis names its own rate. Anything else: null.
 */
const OGG_PAGE = Buffer.from('OggS');
const OPUS_HEAD = Buffer.from('OpusHead');
const VORBIS_ID = Buffer.from('\u0001vorbis', 'latin1');

export function oggDurationSeconds(bytes: Buffer): number | null {
  if (bytes.length < 27 || !bytes.subarray(0, 4).equals(OGG_PAGE)) return null;
  const last = bytes.lastIndexOf(OGG_PAGE);
  if (last < 0 || last + 14 > bytes.length) return null;
  const granule = bytes.readBigInt64LE(last + 6);
  if (granule <= 0n) return null;
  const opus = bytes.indexOf(OPUS_HEAD);
  if (opus >= 0 && opus + 12 <= bytes.length) {
    const preSkip = bytes.readUInt16LE(opus + 10);
    return Math.max(0, Number(granule) - preSkip) / 48_000;
  }
  const vorbis = bytes.indexOf(VORBIS_ID);
  if (vorbis >= 0 && vorbis + 16 <= bytes.length) {
    const rate = bytes.readUInt32LE(vorbis + 12);
    return rate > 0 ? Number(granule) / rate : null;
  }
  return null;
}

/** A voice codec's typical rate (Opus voice, ~16 kbit/s): a rough length when the file says nothing. */
const ESTIMATE_BYTES_PER_SECOND = 2000;

export function estimatedAudioSeconds(sizeBytes: number): number {
  return Math.max(1, Math.round(sizeBytes / ESTIMATE_BYTES_PER_SECOND));
}
