// The wall display: follows the site's calls over Socket.IO (/display), shows them large,
// and announces each new one: a chime, then the call spoken in Greek and the ticket's
// language. Announcements queue and never overlap. A gap in the event sequence, a new
// server epoch or a reconnect brings a fresh snapshot; calls made while the display was
// away are announced once it is back. What goes wrong is shown on the screen: no token,
// no connection, sound blocked, speech failing.

import { Voice, live, pairDevice, startClock, takeToken, tones, unlockSound } from "/static/web/seira.js";

const board = document.getElementById("board");
const $ = (id) => document.getElementById(id);
const SHOWN = 7; // the current call and the six before it

const TOKEN_KEY = "seira.display.token";
const token = takeToken(TOKEN_KEY);
let pairing = false; // asking to be paired already
if (!token) {
  notSetUp();
} else {
  run();
}

// No token, or one taken back: show a code for staff to pair this display in the admin
// area, with a QR code of that page; start as soon as they have.
function notSetUp(socket = null) {
  if (socket) socket.disconnect();
  localStorage.removeItem(TOKEN_KEY);
  $("not-set-up").hidden = false;
  if (pairing) return;
  pairing = true;
  pairDevice({
    kind: "display",
    site: board.dataset.site,
    key: TOKEN_KEY,
    onCode(code, approveUrl) {
      $("pairing-code").textContent = code;
      const qr = window.qrcode(0, "M");
      qr.addData(approveUrl);
      qr.make();
      $("pairing-qr").innerHTML = qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
    },
  });
}

function run() {
  startClock($("clock-time"), $("clock-date"), { lang: "el-GR", timezone: board.dataset.timezone });
  rotateMessages();
  if (new URLSearchParams(location.search).get("waiting") === "0") $("waiting").hidden = true;

  let calls = []; // newest first
  let newestId = 0; // the newest call this display has shown (and announced)
  let snapshots = 0;

  function render() {
    // one line per number: a recall replaces the older call of the same ticket
    calls = calls.filter((c, i) => calls.findIndex((d) => d.number === c.number) === i);
    const current = calls[0];
    $("current-number").textContent = current ? current.number : "—";
    $("current-counter").textContent = current ? current.counter.labels.el || current.counter.slug : "";
    $("current-counter-en").textContent = current ? current.counter.labels.en || "" : "";
    board.dataset.current = current ? current.number : "";
    showOwnLanguage(current);
    $("recent").replaceChildren(
      ...calls.slice(1, SHOWN).map((call) => {
        const item = document.createElement("li");
        const number = document.createElement("span");
        number.className = "recent-number";
        number.textContent = call.number;
        const counter = document.createElement("span");
        counter.className = "recent-counter";
        counter.textContent = call.counter.labels.el || call.counter.slug;
        item.append(number, counter);
        return item;
      })
    );
  }

  // the call in the ticket's own language and script, under the Greek and English
  function showOwnLanguage(call) {
    const own = $("current-own");
    const words = call && call.written;
    own.hidden = !words || ["el", "en"].includes(words.lang);
    if (own.hidden) return own.replaceChildren();
    own.lang = words.lang.replace("_", "-");
    own.dir = words.dir;
    const part = (tag, text) => Object.assign(document.createElement(tag), { textContent: text });
    own.replaceChildren(
      part("span", words.ticket), " ", part("bdi", call.number), " · ",
      part("span", words.go_to), " ", part("bdi", words.counter)
    );
  }

  function flash() {
    const panel = $("current");
    panel.classList.remove("flash");
    void panel.offsetWidth; // restart the animation
    panel.classList.add("flash");
  }

  function addCall(call) {
    if (calls.some((c) => c.id === call.id)) return;
    calls = [call, ...calls].sort((a, b) => b.id - a.id).slice(0, SHOWN);
    render();
    if (call.id > newestId) {
      flash();
      announce(call);
    }
    newestId = Math.max(newestId, call.id);
  }

  // --- announcements: one at a time, in order -----------------------------------------------
  const voice = new Voice($("announcer"), { token, onSound });
  const waiting = [];
  let speaking = false;

  function onSound(state) {
    $("sound-blocked").hidden = state !== "blocked";
    $("speech-failed").hidden = state !== "failed" && state !== "offline";
  }

  function announce(call) {
    if (call.quiet) return; // the visitor asked not to be called aloud, or a private visit
    waiting.push(call);
    if (!speaking) next();
  }

  async function next() {
    const call = waiting.shift();
    if (!call) {
      speaking = false;
      return;
    }
    speaking = true;
    const heard = await tones([659.25, 523.25], { gap: 0.35, length: 0.5 });
    if (!heard) onSound("blocked");
    await voice.say(call.announce);
    next();
  }

  $("sound-blocked").addEventListener("click", () => {
    unlockSound();
    $("announcer").play().catch(() => {});
    $("sound-blocked").hidden = true;
  });

  // --- waiting counts ------------------------------------------------------------------------
  function showWaiting(items) {
    for (const item of items || []) {
      const el = document.querySelector(`.waiting-item[data-service="${CSS.escape(item.service)}"] [data-count]`);
      if (el) el.textContent = item.waiting;
    }
  }

  // --- the connection ------------------------------------------------------------------------
  function snapshot(snap) {
    const first = snapshots === 0;
    snapshots += 1;
    // calls the display missed while away are shown and announced, oldest first
    const missed = first ? [] : snap.calls.filter((c) => c.id > newestId).sort((a, b) => a.id - b.id);
    calls = snap.calls.slice(0, SHOWN);
    if (first) newestId = calls.length ? calls[0].id : 0;
    render();
    for (const call of missed) {
      flash();
      announce(call);
      newestId = Math.max(newestId, call.id);
    }
    showWaiting(snap.waiting);
    board.dataset.snapshots = String(snapshots);
  }

  // the centre's name, services or messages changed in the admin area: redraw them
  async function reconfigure() {
    let found;
    try {
      const response = await fetch(`${location.pathname}/board.json`, { cache: "no-store" });
      if (!response.ok) return;
      found = await response.json();
    } catch {
      return; // offline: the next change, or a reload, brings it
    }
    $("site-el").textContent = found.site_name;
    $("site-en").textContent = found.site_name_en;
    const counts = new Map(
      Array.from(document.querySelectorAll(".waiting-item"), (el) => [
        el.dataset.service,
        el.querySelector("[data-count]").textContent,
      ])
    );
    $("waiting").replaceChildren(...found.services.map((s) => waitingItem(s, counts.get(s.slug))));
    $("info").replaceChildren(
      ...found.messages.map((m, i) =>
        Object.assign(document.createElement("p"), {
          className: "info-message",
          lang: m.lang.replace("_", "-"),
          dir: m.dir,
          textContent: m.text,
          hidden: i > 0,
        })
      )
    );
    board.dataset.configured = String(Number(board.dataset.configured || 0) + 1);
  }

  function waitingItem(service, count) {
    const item = document.createElement("span");
    item.className = "waiting-item";
    item.dataset.service = service.slug;
    const part = (name, text) => Object.assign(document.createElement("span"), { className: name, textContent: text });
    const number = part("waiting-count", count || "0");
    number.dataset.count = "";
    item.append(part("waiting-prefix", service.prefix), part("waiting-label", service.el), number, part("waiting-unit", board.dataset.waitingWord));
    return item;
  }

  const socket = live("/display", {
    auth: { token },
    snapshot: { event: "snapshot", handler: snapshot },
    events: {
      called: (call) => addCall(call), // shown even after a gap: the snapshot follows
      recalled: (call) => addCall(call), // a recall is announced again, and moves to the top
      waiting: (event, inOrder) => inOrder && showWaiting(event.waiting),
    },
    onState(state) {
      $("reconnecting").hidden = state === "online";
      if (state === "refused") notSetUp(socket);
    },
  });
  // not numbered like the calls: a change of configuration is read again whole
  socket.on("config", reconfigure);
  socket.on("revoked", () => notSetUp(socket));
}

function rotateMessages() {
  setInterval(() => {
    // read each time: a change of configuration replaces the messages
    const messages = Array.from(document.querySelectorAll(".info-message"));
    if (messages.length < 2) return;
    const shown = Math.max(0, messages.findIndex((m) => !m.hidden));
    messages[shown].hidden = true;
    messages[(shown + 1) % messages.length].hidden = false;
  }, 7000);
}
