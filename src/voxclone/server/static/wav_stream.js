// Plays a streamed 16-bit PCM WAV (POST /v1/audio/speech, sizes "unknown") as its
// bytes arrive, so the first sentence sounds while the server renders the rest.
// WavStreamDecoder is plain JavaScript (tested under Node.js); StreamPlayer needs Web Audio.
"use strict";

class WavFormatError extends Error {
  constructor(message) { super(message); this.name = "WavFormatError"; }
}

class WavStreamDecoder {
  constructor() {
    this.pending = new Uint8Array(0);  // bytes not yet decoded: the header, or an odd byte
    this.sampleRate = 0;               // known once the header has come
    this.inData = false;
  }

  // Decodes the next bytes of the stream; returns the whole samples they complete, as
  // floats in [-1, 1) (an empty array while the header is still coming).
  push(bytes) {
    const joined = new Uint8Array(this.pending.length + bytes.length);
    joined.set(this.pending, 0);
    joined.set(bytes, this.pending.length);
    let start = 0;
    if (!this.inData) {
      start = this._header(joined);
      if (start < 0) { this.pending = joined; return new Float32Array(0); }
      this.inData = true;
    }
    const usable = (joined.length - start) & ~1;  // a sample split across chunks waits
    const view = new DataView(joined.buffer, joined.byteOffset + start, usable);
    const samples = new Float32Array(usable / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
    this.pending = joined.slice(start + usable);
    return samples;
  }

  // The offset of the first sample, or -1 while the header is incomplete. Walks the
  // RIFF chunks, so a LIST or fact chunk before the data is skipped.
  _header(bytes) {
    const text = (at) => String.fromCharCode(...bytes.subarray(at, at + 4));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    if (bytes.length < 12) return -1;
    if (text(0) !== "RIFF" || text(8) !== "WAVE") throw new WavFormatError("the answer is not a WAV stream");
    let at = 12;
    while (at + 8 <= bytes.length) {
      const id = text(at), size = view.getUint32(at + 4, true);
      if (id === "data") {
        if (!this.sampleRate) throw new WavFormatError("the WAV stream has no fmt chunk before its data");
        return at + 8;
      }
      if (at + 8 + size > bytes.length) return -1;
      if (id === "fmt ") {
        const format = view.getUint16(at + 8, true), channels = view.getUint16(at + 10, true);
        const bits = view.getUint16(at + 22, true);
        if (format !== 1 || channels !== 1 || bits !== 16) {
          throw new WavFormatError(`cannot play a WAV stream of format ${format}, ${channels} channels, ${bits} bits: only 16-bit mono PCM`);
        }
        this.sampleRate = view.getUint32(at + 12, true);
      }
      at += 8 + size + (size & 1);  // chunks are padded to an even size
    }
    return -1;
  }
}

// Schedules decoded pieces back to back on one AudioContext. Pieces shorter than
// minSeconds are gathered first: fewer, longer buffers play without seams.
class StreamPlayer {
  constructor(context, minSeconds = 0.25) {
    this.context = context;
    this.minSeconds = minSeconds;
    this.next = 0;
    this.gathered = [];
    this.count = 0;
    this.scheduled = 0;  // seconds handed to the context so far
  }

  add(samples, rate) {
    if (samples.length) { this.gathered.push(samples); this.count += samples.length; }
    if (this.count >= this.minSeconds * rate) this.flush(rate);
  }

  flush(rate) {
    if (!this.count) return;
    const buffer = this.context.createBuffer(1, this.count, rate);
    let at = 0;
    const channel = buffer.getChannelData(0);
    for (const piece of this.gathered) { channel.set(piece, at); at += piece.length; }
    this.gathered = []; this.count = 0;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    // a little lead, and no overlap when rendering falls behind playback
    const start = Math.max(this.next, this.context.currentTime + 0.05);
    source.start(start);
    this.next = start + buffer.duration;
    this.scheduled += buffer.duration;
  }
}

if (typeof module !== "undefined") module.exports = { WavStreamDecoder, WavFormatError, StreamPlayer };
