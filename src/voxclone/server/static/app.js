// voxclone web page: records from the microphone as 16-bit WAV, and talks to the
// voxclone HTTP API with the key the user gives.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { key: localStorage.getItem("voxclone-key") || "", reference: null, consent: null, challenge: null };

function show(id, text, kind) {
  const el = $(id);
  el.textContent = text;
  el.className = kind || "";
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.key}` }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      // every error, invalid requests and unknown routes included: {"error": {"type", "message"}}
      message = body.error ? body.error.message : JSON.stringify(body);
    } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

// --- recording: raw PCM from the microphone, encoded as a WAV file -------------------
class Recorder {
  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    this.context = new AudioContext();
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = this.context.createScriptProcessor(4096, 1, 1);
    this.chunks = [];
    this.node.onaudioprocess = (event) => this.chunks.push(new Float32Array(event.inputBuffer.getChannelData(0)));
    source.connect(this.node);
    this.node.connect(this.context.destination);
  }
  async stop() {
    this.node.disconnect();
    this.stream.getTracks().forEach((t) => t.stop());
    const rate = this.context.sampleRate;
    await this.context.close();
    const length = this.chunks.reduce((n, c) => n + c.length, 0);
    const samples = new Float32Array(length);
    let offset = 0;
    for (const c of this.chunks) { samples.set(c, offset); offset += c.length; }
    return { blob: encodeWav(samples, rate), seconds: length / rate };
  }
}

function encodeWav(samples, rate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buffer], { type: "audio/wav" });
}

function recordButtons(startId, stopId, statusId, onDone) {
  let recorder = null;
  $(startId).addEventListener("click", async () => {
    try {
      recorder = new Recorder();
      await recorder.start();
      $(startId).disabled = true; $(stopId).disabled = false;
      show(statusId, "recording...");
    } catch (e) { show(statusId, `cannot record: ${e.message}`, "error"); }
  });
  $(stopId).addEventListener("click", async () => {
    const take = await recorder.stop();
    $(startId).disabled = false; $(stopId).disabled = true;
    show(statusId, `recorded ${take.seconds.toFixed(1)} s`, "good");
    onDone(take);
  });
}

function updateEnrollButton() {
  $("enroll").disabled = !(state.reference && state.consent && state.challenge);
}

// --- key ----------------------------------------------------------------------------
$("api-key").value = state.key;
$("save-key").addEventListener("click", async () => {
  state.key = $("api-key").value.trim();
  localStorage.setItem("voxclone-key", state.key);
  try {
    await api("/v1/voices");
    show("key-status", "key accepted", "good");
    await refreshVoices();
  } catch (e) { show("key-status", e.message, "error"); }
});

// --- enrollment -----------------------------------------------------------------------
recordButtons("ref-record", "ref-stop", "ref-status", async (take) => {
  state.reference = take.blob;
  updateEnrollButton();
  await qualityReport(take.blob);
});

async function qualityReport(blob) {
  const form = new FormData();
  form.append("files", blob, "reference.wav");
  try {
    const report = await (await api("/v1/check", { method: "POST", body: form })).json();
    const lines = report.clips.map((c) => `${c.verdict}: ${c.speech_seconds.toFixed(1)} s of speech` +
      (c.problems.length ? ` - ${c.problems.map((p) => p.advice).join("; ")}` : ""));
    show("quality-report", `Quality: ${lines.join(" | ")}`, report.clips.every((c) => c.verdict === "good") ? "good" : "warn");
  } catch (e) { show("quality-report", `quality check: ${e.message}`, "warn"); }
}

$("get-challenge").addEventListener("click", async () => {
  try {
    const name = $("voice-name").value.trim();
    const response = await api("/v1/consent/challenges", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
    state.challenge = await response.json();
    state.consent = null;
    $("challenge-text").textContent = state.challenge.text;
    $("consent-record").disabled = false;
    updateEnrollButton();
  } catch (e) { show("consent-status", e.message, "error"); }
});

recordButtons("consent-record", "consent-stop", "consent-status", (take) => {
  state.consent = take.blob;
  updateEnrollButton();
});

$("enroll").addEventListener("click", async () => {
  const form = new FormData();
  form.append("name", state.challenge.name);
  form.append("challenge", state.challenge.id);
  form.append("effort", $("effort").value);
  form.append("references", state.reference, "reference.wav");
  form.append("consent", state.consent, "consent.wav");
  $("enroll").disabled = true;
  const bar = $("enroll-progress");
  bar.hidden = false; bar.value = 0;
  try {
    let job = await (await api("/v1/voices", { method: "POST", body: form })).json();
    while (job.status === "queued" || job.status === "running") {
      show("enroll-status", job.status === "queued" ? "waiting..." :
        `enrolling... ${Math.round(job.progress * 100)}%` + (job.similarity ? ` (similarity ${job.similarity.toFixed(2)})` : ""));
      bar.value = job.progress;
      await new Promise((r) => setTimeout(r, 500));
      job = await (await api(`/v1/jobs/${job.id}`)).json();
    }
    if (job.status === "failed") throw new Error(job.error.message);
    bar.value = 1;
    const warnings = job.result.warnings || [];
    show("enroll-status", `enrolled ${job.result.name} (similarity ${job.result.score.toFixed(2)})` +
      warnings.map((w) => `\nwarning: ${w}`).join(""), warnings.length ? "warn" : "good");
    state.challenge = null; state.consent = null;
    await refreshVoices(job.result.name);
  } catch (e) {
    show("enroll-status", e.message, "error");
    state.challenge = null;  // a challenge is single-use: get a new one
  }
  updateEnrollButton();
});

// --- speaking -------------------------------------------------------------------------
async function refreshVoices(select) {
  const voices = await (await api("/v1/voices")).json();
  const menu = $("speak-voice");
  menu.innerHTML = "";
  for (const v of voices) {
    const option = document.createElement("option");
    option.value = v.name; option.textContent = v.own ? v.name : `${v.name} (granted)`;
    menu.appendChild(option);
  }
  if (select) menu.value = select;
}
$("refresh-voices").addEventListener("click", () => refreshVoices().catch((e) => show("speak-status", e.message, "error")));

// A streamed WAV says "size unknown" (0xFFFFFFFF) in its header; once it has all come,
// write the real sizes so that the downloaded file opens everywhere.
function sizedWav(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength >= 44 && view.getUint32(4, true) === 0xFFFFFFFF) {
    view.setUint32(4, buffer.byteLength - 8, true);    // RIFF chunk
    view.setUint32(40, buffer.byteLength - 44, true);  // data chunk (after a 16-byte fmt)
  }
  return new Blob([buffer], { type: "audio/wav" });
}

// The speech plays as it arrives (wav_stream.js); once all has come, the player holds the
// whole file to replay or download. Where Web Audio or a readable body is missing, the
// page waits for the whole file instead. A new request stops the one before: only the
// latest plays and shows its result.
let playing = null;  // the StreamPlayer of the speech playing now
let speaking = 0;    // the latest request's number

// Made in the click itself: a browser lets audio start only from a user's gesture.
function audioContext() {
  if (!window.AudioContext) return null;
  try { return new AudioContext({ sampleRate: 24000 }); }  // the server's rate: no resampling
  catch (e) { return new AudioContext(); }
}

async function streamSpeech(response, context, mine) {
  const decoder = new WavStreamDecoder(), player = new StreamPlayer(context), parts = [];
  playing = player;
  context.resume().catch(() => {});
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (mine !== speaking) { reader.cancel().catch(() => {}); return null; }  // superseded
    parts.push(value);
    player.add(decoder.push(value), decoder.sampleRate || 24000);
  }
  player.flush(decoder.sampleRate || 24000);
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => { whole.set(p, at); return at + p.length; }, 0);
  return whole.buffer;
}

function releaseContext(context) {
  if (context && (!playing || playing.context !== context)) context.close().catch(() => {});
}

$("speak").addEventListener("click", async () => {
  const mine = ++speaking;
  if (playing) { playing.context.close().catch(() => {}); playing = null; }
  show("speak-status", "speaking...");
  const context = audioContext();
  try {
    const response = await api("/v1/audio/speech", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "voxclone", voice: $("speak-voice").value, input: $("speak-text").value,
        response_format: "wav", speed: parseFloat($("speak-speed").value) }) });
    if (mine !== speaking) return releaseContext(context);  // while the server started
    const streamed = context && response.body;
    if (streamed) show("speak-status", "playing as it is spoken...");
    const bytes = streamed ? await streamSpeech(response, context, mine) : await response.arrayBuffer();
    if (bytes === null || mine !== speaking) return releaseContext(context);
    const url = URL.createObjectURL(sizedWav(bytes));
    const player = $("player");
    player.src = url;
    const link = $("download");
    link.href = url; link.hidden = false;
    if (!streamed) {
      if (context) context.close().catch(() => {});
      await player.play().catch(() => {});  // autoplay may be blocked; the controls remain
    }
    show("speak-status", `watermark ${response.headers.get("X-Voxclone-Synthesis")}`, "good");
  } catch (e) {
    releaseContext(context);
    if (mine === speaking) show("speak-status", e.message, "error");
  }
});

// --- detection ------------------------------------------------------------------------
async function detectFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  show("detect-result", "checking...");
  try {
    const result = await (await api("/v1/detect", { method: "POST", body: form })).json();
    // one line per mark: a file may join several syntheses
    const marks = (result.marks || []).map((m, i, all) =>
      (m.matched_by === "fingerprint"
        ? "no readable watermark, but it matches a voxclone synthesis by its fingerprint"
        : "voxclone watermark found") +
      `${all.length > 1 ? ` (${i + 1} of ${all.length})` : ""}: ` +
      `synthesis ${m.payload} at ${m.start_s.toFixed(1)}-${m.end_s.toFixed(1)} s ` +
      `(false-positive probability ${m.false_positive_probability.toExponential(1)})` +
      (m.synthesis ? `\nvoice ${m.synthesis.voice}, made ${m.synthesis.created}` : ""));
    show("detect-result", result.found
      ? marks.join("\n")
      : "no voxclone watermark found" +
        (result.too_short ? " (but the clip is under 2 s: too short to be sure)" : "") +
        (result.low_bitrate ? ` (but the file is ${result.low_bitrate}: at such bitrates the ` +
          "mark is often lost, so this does not show that the speech is not voxclone's)" : ""),
      result.found ? "warn" : result.too_short || result.low_bitrate ? "" : "good");
  } catch (e) { show("detect-result", e.message, "error"); }
}
const zone = $("drop-zone");
zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => {
  e.preventDefault(); zone.classList.remove("over");
  if (e.dataTransfer.files.length) detectFile(e.dataTransfer.files[0]);
});
$("detect-file").addEventListener("change", (e) => { if (e.target.files.length) detectFile(e.target.files[0]); });

if (state.key) refreshVoices().catch(() => {});
