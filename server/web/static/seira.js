// What every page does, written once: the device token from the URL fragment, the live
// connection with the gap-and-snapshot protocol (docs/realtime.md), fetching JSON with the
// server's error, speech and tones, the clock in the centre's time zone, and messages
// shown to the person. Each page's own script keeps only its screen.

// --- the device token ------------------------------------------------------------------

// A kiosk's or display's token arrives once in the URL fragment (#token=...), which
// browsers never send to a server; it is kept in localStorage under `key` and the fragment
// is removed from the address bar.
export function takeToken(key) {
  const found = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (found) {
    localStorage.setItem(key, decodeURIComponent(found[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(key);
}

// --- pairing a device without a token ---------------------------------------------------

const PAIRING_POLL_MS = 3000;

function newSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32)); // works on plain http too
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// A kiosk or display opened without a token asks to be paired with a secret it makes
// itself, kept under `key + ".pending"` so that a reload keeps the same code. `onCode(code,
// approveUrl)` shows the code (and a QR code of the admin page that approves it) until an
// admin approves; the secret then is the device's token, and the page the device was
// paired as (a kiosk or display of some site) opens with it. Until then it asks again
// every few seconds.
export async function pairDevice({ kind, site, key, onCode }) {
  const pendingKey = `${key}.pending`;
  let secret = localStorage.getItem(pendingKey);
  if (!secret) {
    secret = newSecret();
    localStorage.setItem(pendingKey, secret);
  }
  for (;;) {
    let state = null;
    try {
      const response = await fetch("/api/v1/pairings", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kind, site, secret }),
        cache: "no-store",
      });
      if (response.status === 409) {
        secret = newSecret(); // the secret of a revoked device: start afresh
        localStorage.setItem(pendingKey, secret);
        continue;
      }
      if (response.ok) state = await response.json();
    } catch {
      state = null; // offline: the code on the screen stays, we ask again
    }
    if (state && state.status === "approved") {
      localStorage.removeItem(pendingKey);
      const path = `/${state.device.kind}/${state.device.site}`;
      if (path === location.pathname) {
        localStorage.setItem(key, secret);
        location.reload();
      } else {
        location.replace(`${path}#token=${encodeURIComponent(secret)}`);
      }
      return;
    }
    if (state && state.code) {
      const approve = `${location.origin}/admin/${site}/devices?code=${encodeURIComponent(state.code)}&kind=${kind}`;
      onCode(state.code, approve);
    }
    await new Promise((resolve) => setTimeout(resolve, PAIRING_POLL_MS));
  }
}

// --- live updates ----------------------------------------------------------------------

// Connect to a Socket.IO namespace. `events` maps event names to handler(data, inOrder).
// With `snapshot` ({event, handler}), events carry `seq` and `epoch`: one that does not
// follow the last one seen (a gap, or a restarted server) asks for a snapshot, and its
// handler is told it came out of order; one the last snapshot holds already is dropped;
// a snapshot resets the sequence. `onState` hears
// "online", "offline", or "refused" when the server turned the credential down.
export function live(namespace, { auth, snapshot = null, events = {}, onState = () => {} }) {
  // A websocket from the start, no long-polling first: a websocket stays with the server
  // process it reached, so several processes on one port (seira serve --workers N) or
  // behind a proxy need no sticky sessions; every browser Seira serves has websockets.
  const socket = window.io(namespace, { auth, transports: ["websocket"], reconnectionDelayMax: 3000 });
  let epoch = null;
  let seq = null;
  socket.on("connect", () => onState("online"));
  socket.on("disconnect", () => onState("offline"));
  socket.on("connect_error", (err) => {
    // the server's refusals say what credential is missing; anything else is the network
    const refused = err && err.message && /token|needed|may not|no such/.test(err.message);
    onState(refused ? "refused" : "offline");
  });
  if (snapshot) {
    socket.on(snapshot.event, (data) => {
      epoch = data.epoch;
      seq = data.seq;
      snapshot.handler(data);
    });
  }
  for (const [name, handler] of Object.entries(events)) {
    socket.on(name, (data) => {
      let inOrder = true;
      if (snapshot) {
        if (data.epoch === epoch && seq !== null && data.seq <= seq) return; // in the snapshot
        inOrder = data.epoch === epoch && seq !== null && data.seq === seq + 1;
        if (inOrder) seq = data.seq;
        else socket.emit("snapshot");
      }
      handler(data, inOrder);
    });
  }
  return socket;
}

// --- talking to the server -------------------------------------------------------------

// fetch, then JSON: {status, data, error}. `error` is the server's {code, message}, or
// {code: "offline"} when the server could not be reached; a 204 has no data. A 401 from a
// staff page reloads it, which then asks the person to sign in again.
export async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      ...options,
      headers: { Accept: "application/json", ...(options.headers || {}) },
    });
  } catch (err) {
    return { status: 0, data: null, error: { code: "offline", message: String(err) } };
  }
  if (response.status === 401 && options.reloadOn401 !== false) location.reload();
  if (response.status === 204) return { status: 204, data: null, error: null };
  const data = await response.json().catch(() => null);
  if (response.ok) return { status: response.status, data, error: null };
  const error = data && data.error ? data.error : { code: "http_" + response.status, message: response.statusText };
  return { status: response.status, data: null, error };
}

// --- sound -----------------------------------------------------------------------------

let context = null;

// Soft tones drawn by Web Audio (nothing to download): `frequencies` one after another,
// `gap` seconds apart. Resolves when they are over: true if heard, false if the browser
// keeps sound blocked until someone taps the page (or has no Web Audio).
export function tones(frequencies, { gap = 0.35, length = 0.5, volume = 0.4 } = {}) {
  let heard = false;
  try {
    context = context || new AudioContext();
    context.resume();
    const start = context.currentTime + 0.05;
    frequencies.forEach((frequency, i) => {
      const at = start + i * gap;
      const tone = context.createOscillator();
      const gain = context.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(volume, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
      tone.connect(gain).connect(context.destination);
      tone.start(at);
      tone.stop(at + length + 0.05);
    });
    heard = context.state !== "suspended";
  } catch (err) {
    heard = false;
  }
  const lasts = (gap * (frequencies.length - 1) + length) * 1000 + 100;
  return new Promise((resolve) => setTimeout(() => resolve(heard), lasts));
}

// Browsers allow sound only after a tap: call this from the tap's handler.
export function unlockSound() {
  try {
    context = context || new AudioContext();
    context.resume();
  } catch (err) {
    // no Web Audio here: nothing to unlock
  }
}

const MAX_TEXT = 400; // the server's limit per /speech request
const PLAY_AT_MOST_MS = 60000; // a stuck <audio> never stalls what follows

function chunks(text) {
  const out = [];
  let piece = "";
  for (const sentence of text.split(/(?<=[.!?।։።؟۔])\s+/)) {
    if (piece && (piece + " " + sentence).length > MAX_TEXT) {
      out.push(piece);
      piece = "";
    }
    piece = piece ? `${piece} ${sentence}` : sentence;
  }
  if (piece) out.push(piece.slice(0, MAX_TEXT));
  return out;
}

// Speech from the server's offline engine (POST /speech, WAV), played on one <audio>
// element. `say(parts, {onPart})` speaks each {lang, text, key?} in turn, telling `onPart(i)`
// as part i starts (and onPart(-1) at the end), and resolves when done; a new say() or
// stop() interrupts the one playing. `onSound(state)` hears "playing",
// "blocked" (autoplay refused: a tap is needed), "failed" (no voice, the engine failed)
// or "offline", so the page can tell the person instead of staying silent.
export class Voice {
  constructor(audio, { url = "/speech", token = null, onSound = () => {} } = {}) {
    this.audio = audio;
    this.url = url;
    this.token = token;
    this.onSound = onSound;
    this.run = 0;
  }

  async say(parts, { onPart = () => {} } = {}) {
    this.stop();
    const run = this.run;
    const done = (result) => {
      if (run === this.run) onPart(-1);
      return result;
    };
    for (const [index, { lang, text, key }] of parts.entries()) {
      if (run !== this.run) return false;
      onPart(index);
      // a part with a `key` may be said from an interpreter's recording: one request, whole
      for (const piece of key ? [text.slice(0, MAX_TEXT)] : chunks(text)) {
        // in the body, never the URL: the text may name a sensitive visit reason
        const body = JSON.stringify(key ? { lang, text: piece, key } : { lang, text: piece });
        const headers = { "Content-Type": "application/json" };
        if (this.token) headers.Authorization = `Bearer ${this.token}`;
        let response;
        try {
          response = await fetch(this.url, { method: "POST", headers, body, credentials: "same-origin" });
        } catch (err) {
          this.onSound("offline");
          return done(false);
        }
        if (run !== this.run) return false;
        if (!response.ok) {
          this.onSound("failed");
          continue;
        }
        const blob = await response.blob();
        if (run !== this.run) return false;
        this.audio.dataset.lang = lang;
        this.audio.dataset.text = piece;
        await this.play(URL.createObjectURL(blob));
        if (run !== this.run) return false;
      }
    }
    return done(true);
  }

  play(src) {
    const previous = this.audio.src;
    this.audio.src = src;
    if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
    return new Promise((resolve) => {
      const timer = setTimeout(done, PLAY_AT_MOST_MS);
      const audio = this.audio;
      function done() {
        clearTimeout(timer);
        audio.removeEventListener("ended", done);
        audio.removeEventListener("error", done);
        audio.removeEventListener("pause", done);
        resolve();
      }
      audio.addEventListener("ended", done);
      audio.addEventListener("error", done);
      audio.addEventListener("pause", done);
      audio.play().then(
        () => this.onSound("playing"),
        () => {
          this.onSound("blocked");
          done();
        }
      );
    });
  }

  stop() {
    this.run += 1;
    this.audio.pause();
  }
}

// --- time --------------------------------------------------------------------------------

// Times in the centre's zone (Europe/Athens), whatever the PC's own clock says.
export function timeFormat(lang, timezone, { seconds = false } = {}) {
  return new Intl.DateTimeFormat(lang || "el", {
    timeZone: timezone || "Europe/Athens",
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
    hour12: false,
  });
}

// A clock on the page: the time (and the date in words, where `dateEl` is given).
export function startClock(timeEl, dateEl, { lang, timezone }) {
  const time = timeFormat(lang, timezone);
  const day = new Intl.DateTimeFormat(lang || "el", { timeZone: timezone || "Europe/Athens", weekday: "long", day: "numeric", month: "long" });
  function tick() {
    const now = new Date();
    timeEl.textContent = time.format(now);
    if (dateEl) dateEl.textContent = day.format(now);
  }
  tick();
  return setInterval(tick, 1000);
}

// --- telling the person ----------------------------------------------------------------

// Show `text` in the page's message element (a live region: role=status or role=alert
// in the template, always in the page so that screen readers hear each change); an empty
// text clears it.
export function tell(element, text, { error = false } = {}) {
  element.textContent = text || "";
  element.classList.toggle("error", !!(text && error));
}

// Call `fn` once, `ms` after the last of several calls close together.
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// --- staff pages' tables -------------------------------------------------------------------

// A table row of [text, className] cells (text only: nothing is parsed as HTML).
export function tableRow(cells, className = "") {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
  }
  return tr;
}

// A visitor language as staff read it: its name in their language, then its own name.
export function languageName(languages, code) {
  const lang = languages[code];
  return lang ? `${lang.name} · ${lang.native}` : code;
}
