// The wall display: follows the site's calls over Socket.IO (/display), shows them large,
// and announces each new one: a chime, then the call spoken in Greek and the ticket's
// language. Announcements queue and never overlap. A gap in the event sequence, a new
// server epoch or a reconnect brings a fresh snapshot; calls made while the display was
// away are announced once it is back.
"use strict";

(function () {
  const board = document.getElementById("board");
  const timezone = board.dataset.timezone || "Europe/Athens";
  const $ = (id) => document.getElementById(id);

  // --- the token: from the URL fragment once, then kept by the browser ---------------------
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    localStorage.setItem("seira.display.token", fragment.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = localStorage.getItem("seira.display.token");
  if (!token) {
    $("not-set-up").hidden = false;
    return;
  }

  // --- clock, in the centre's time zone -----------------------------------------------------
  const timeFormat = new Intl.DateTimeFormat("el-GR", { timeZone: timezone, hour: "2-digit", minute: "2-digit", hour12: false });
  const dateFormat = new Intl.DateTimeFormat("el-GR", { timeZone: timezone, weekday: "long", day: "numeric", month: "long" });
  function tick() {
    const now = new Date();
    $("clock-time").textContent = timeFormat.format(now);
    $("clock-date").textContent = dateFormat.format(now);
  }
  tick();
  setInterval(tick, 1000);

  // --- rotating information message --------------------------------------------------------
  const messages = Array.from(document.querySelectorAll(".info-message"));
  let shown = 0;
  setInterval(() => {
    if (messages.length < 2) return;
    messages[shown].hidden = true;
    shown = (shown + 1) % messages.length;
    messages[shown].hidden = false;
  }, 7000);

  // --- state ---------------------------------------------------------------------------------
  let calls = []; // newest first, at most seven: the current one and six before it
  let lastSeq = null;
  let epoch = null;
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
    const list = $("recent");
    list.replaceChildren(
      ...calls.slice(1, 7).map((call) => {
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

  function flash() {
    const panel = $("current");
    panel.classList.remove("flash");
    void panel.offsetWidth; // restart the animation
    panel.classList.add("flash");
  }

  function addCall(call, announceIt) {
    if (calls.some((c) => c.id === call.id)) return;
    calls = [call, ...calls].sort((a, b) => b.id - a.id).slice(0, 7);
    render();
    if (announceIt && call.id > newestId) {
      flash();
      enqueue(call);
    }
    newestId = Math.max(newestId, call.id);
  }

  // --- announcements: one at a time, in order ------------------------------------------------
  const queue = [];
  let speaking = false;
  const audio = $("announcer");
  let audioContext = null;

  function enqueue(call) {
    queue.push(call);
    if (!speaking) next();
  }

  async function next() {
    const call = queue.shift();
    if (!call) {
      speaking = false;
      return;
    }
    speaking = true;
    try {
      await chime();
      for (const phrase of call.announce) {
        await say(phrase);
      }
    } catch (err) {
      console.warn("announcement failed", err);
    }
    next();
  }

  function chime() {
    // two soft tones drawn by Web Audio: nothing to download
    try {
      audioContext = audioContext || new AudioContext();
      const start = audioContext.currentTime + 0.05;
      [659.25, 523.25].forEach((freq, i) => {
        const osc = audioContext.createOscillator();
        const gain = audioContext.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, start + i * 0.35);
        gain.gain.exponentialRampToValueAtTime(0.4, start + i * 0.35 + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.35 + 0.5);
        osc.connect(gain).connect(audioContext.destination);
        osc.start(start + i * 0.35);
        osc.stop(start + i * 0.35 + 0.55);
      });
      if (audioContext.state === "suspended") soundBlocked(true);
    } catch (err) {
      console.warn("no Web Audio", err);
    }
    return new Promise((resolve) => setTimeout(resolve, 900));
  }

  async function say(phrase) {
    const url = "/speech?" + new URLSearchParams({ lang: phrase.lang, text: phrase.text });
    const response = await fetch(url, { headers: { Authorization: "Bearer " + token } });
    if (!response.ok) throw new Error("speech " + response.status);
    const blob = await response.blob();
    const source = URL.createObjectURL(blob);
    audio.dataset.lang = phrase.lang;
    audio.dataset.text = phrase.text;
    audio.src = source;
    try {
      await audio.play();
      soundBlocked(false);
      await new Promise((resolve) => {
        audio.onended = resolve;
        audio.onerror = resolve;
        setTimeout(resolve, 15000); // never stall the queue
      });
    } catch (err) {
      soundBlocked(true); // autoplay refused: the badge asks for one tap
    } finally {
      URL.revokeObjectURL(source);
    }
  }

  function soundBlocked(blocked) {
    $("sound-blocked").hidden = !blocked;
  }
  $("sound-blocked").addEventListener("click", () => {
    if (audioContext) audioContext.resume();
    audio.play().catch(() => {});
    soundBlocked(false);
  });

  // --- waiting counts (hidden with ?waiting=0, for centres that prefer not to show them) ---
  if (new URLSearchParams(location.search).get("waiting") === "0") $("waiting").hidden = true;
  function showWaiting(waiting) {
    for (const item of waiting || []) {
      const el = document.querySelector(`.waiting-item[data-service="${CSS.escape(item.service)}"] [data-count]`);
      if (el) el.textContent = item.waiting;
    }
  }

  // --- the connection ------------------------------------------------------------------------
  const socket = io("/display", { auth: { token }, reconnectionDelayMax: 3000 });

  function inOrder(event) {
    // true when this event follows the last one seen; otherwise ask for a snapshot
    if (event.epoch !== epoch || lastSeq === null || event.seq !== lastSeq + 1) {
      socket.emit("snapshot");
      return false;
    }
    lastSeq = event.seq;
    return true;
  }

  socket.on("connect", () => {
    $("reconnecting").hidden = true;
  });
  socket.on("disconnect", () => {
    $("reconnecting").hidden = false;
  });
  socket.on("connect_error", (err) => {
    $("reconnecting").hidden = false;
    if (err && err.message && /token/.test(err.message)) {
      $("not-set-up").hidden = false;
    }
  });

  socket.on("snapshot", (snap) => {
    const first = snapshots === 0;
    snapshots += 1;
    epoch = snap.epoch;
    lastSeq = snap.seq;
    // calls the display missed while away are shown and announced, oldest first
    const missed = first ? [] : snap.calls.filter((c) => c.id > newestId).sort((a, b) => a.id - b.id);
    calls = snap.calls.slice(0, 7);
    if (first) newestId = calls.length ? calls[0].id : 0;
    render();
    missed.forEach((call) => {
      flash();
      enqueue(call);
      newestId = Math.max(newestId, call.id);
    });
    showWaiting(snap.waiting);
    board.dataset.snapshots = String(snapshots);
  });

  for (const kind of ["called", "recalled"]) {
    socket.on(kind, (call) => {
      inOrder(call);
      addCall(call, true); // a recall is announced again, and moves to the top
    });
  }

  socket.on("waiting", (event) => {
    if (inOrder(event)) showWaiting(event.waiting);
  });
})();
