// Recording a phrase: the microphone through MediaRecorder, then decoded and resampled in
// the browser to WAV, 16 kHz, mono, 16-bit, the one format the server joins into calls.
// Each row: Record, Stop, Listen (what was just recorded), Save, Play saved, Delete.

import { request, tell } from "/static/web/seira.js";

const root = document.getElementById("recorder");
const base = root.dataset.base;
const t = JSON.parse(document.getElementById("phrases").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const player = document.getElementById("player");
const RATE = 16000;
const say = (text, error) => tell(document.getElementById("message"), text, { error });

let current = null; // {row, recorder, chunks, stream}
const takes = new Map(); // row -> WAV Blob not yet saved

function url(row, path = "") {
  return `${base}${path}?key=${encodeURIComponent(row.dataset.key)}`;
}

function button(row, name) {
  return row.querySelector(`[data-do="${name}"]`);
}

async function record(row) {
  if (current) await stop();
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    return say(t.no_microphone, true);
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  current = { row, recorder, chunks, stream };
  recorder.start();
  button(row, "record").hidden = true;
  button(row, "stop").hidden = false;
  say(t.recording);
}

function stop() {
  const { row, recorder, chunks, stream } = current;
  current = null;
  return new Promise((resolve) => {
    recorder.onstop = async () => {
      stream.getTracks().forEach((track) => track.stop());
      const wav = await toWav(new Blob(chunks, { type: recorder.mimeType }));
      takes.set(row, wav);
      button(row, "record").hidden = false;
      button(row, "stop").hidden = true;
      button(row, "listen").disabled = false;
      button(row, "save").disabled = false;
      say("");
      resolve();
    };
    recorder.stop();
  });
}

// Whatever the browser recorded (Opus in WebM, usually) as 16 kHz mono 16-bit WAV.
async function toWav(blob) {
  const decoded = await new AudioContext().decodeAudioData(await blob.arrayBuffer());
  const frames = Math.max(1, Math.ceil(decoded.duration * RATE));
  const offline = new OfflineAudioContext(1, frames, RATE);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const samples = (await offline.startRendering()).getChannelData(0);
  const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (at, s) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, RATE, true);
  view.setUint32(28, RATE * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => view.setInt16(44 + i * 2, Math.max(-1, Math.min(1, s)) * 0x7fff, true));
  return new Blob([view], { type: "audio/wav" });
}

function hear(src) {
  player.src = src;
  player.play().catch(() => {});
}

async function save(row) {
  const wav = takes.get(row);
  if (!wav) return;
  const { error } = await request(url(row), {
    method: "POST",
    headers: { "Content-Type": "audio/wav", "X-CSRF-Token": csrf },
    body: wav,
  });
  if (error) return say(error.code === "offline" ? t.offline : `${t.failed} ${error.message}`, true);
  takes.delete(row);
  mark(row, true);
  say(t.saved);
}

async function remove(row) {
  const { error } = await request(url(row, "/delete"), {
    method: "POST",
    headers: { "X-CSRF-Token": csrf },
  });
  if (error) return say(`${t.failed} ${error.message}`, true);
  mark(row, false);
}

function mark(row, done) {
  row.dataset.done = done ? "1" : "0";
  row.querySelector(".state").textContent = done ? t.yes : t.not_yet;
  button(row, "play").disabled = !done;
  button(row, "delete").disabled = !done;
  button(row, "save").disabled = true;
  button(row, "listen").disabled = !takes.has(row);
}

const ACTIONS = {
  record,
  stop: () => current && stop(),
  listen: (row) => takes.has(row) && hear(URL.createObjectURL(takes.get(row))),
  save,
  play: (row) => hear(url(row)),
  delete: remove,
};

root.addEventListener("click", (event) => {
  const target = event.target.closest("[data-do]");
  if (target) ACTIONS[target.dataset.do](target.closest(".phrase"));
});
root.dataset.ready = "1";
