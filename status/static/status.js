// Live status of one ticket: Socket.IO first; without it, or when a refresh fails, the
// REST status every few seconds, with a line on the page that says so.

import { live, request, tones, unlockSound } from "/static/web/seira.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("status-config").textContent);
const texts = JSON.parse($("status-texts").textContent);
const FINAL = ["done", "no_show", "cancelled", "closed"];
let lastCalledAt = config.status.status === "called" ? config.status.called_at : null;
let waiting = config.status.status === "waiting";
let pollTimer = null;
let socket = null;
let finished = false;

function render(status) {
  $("number").textContent = status.number;
  $("state").textContent = texts[status.status] || "";
  $("counter").textContent = status.counter || "";
  $("counter").hidden = status.status !== "called";
  $("facts").hidden = status.status !== "waiting";
  $("ahead").textContent = String(status.people_ahead ?? "");
  $("wait").textContent = String(Math.ceil((status.estimated_wait_s || 0) / 60));
  document.body.classList.toggle("called", status.status === "called");
  if (status.status === "called" && status.called_at !== lastCalledAt) alertVisitor();
  lastCalledAt = status.status === "called" ? status.called_at : null;
  waiting = status.status === "waiting";
  if (FINAL.includes(status.status)) finish();
}

// Three beeps and a vibration, where the phone allows them; the page changes colour anyway.
function alertVisitor() {
  if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
  tones([880, 880, 880], { gap: 0.5, length: 0.3, volume: 0.3 });
}

// Browsers allow sound only after a tap: the button unlocks it and plays a short beep.
$("sound").addEventListener("click", () => {
  unlockSound();
  tones([880], { length: 0.15 });
  $("sound").hidden = true;
});

// `moved`: the queue of the site moved, so a waiting visitor's place may have; a visitor
// already called has no place to refetch.
function moved() {
  if (waiting) refresh();
}

async function refresh() {
  const { data, error } = await request(`/api/v1/tickets/status/${config.token}`, { reloadOn401: false });
  if (data) {
    render(data);
    if (socket && socket.connected) stopPolling();
  } else if (error) {
    startPolling(); // the page says it is not live, and tries again every few seconds
  }
}

function startPolling() {
  if (finished) return;
  $("offline").hidden = false;
  if (!pollTimer) pollTimer = setInterval(refresh, config.poll_s * 1000);
}

function stopPolling() {
  $("offline").hidden = true;
  clearInterval(pollTimer);
  pollTimer = null;
}

function finish() {
  finished = true;
  stopPolling();
  $("sound").hidden = true;
  if (socket) socket.disconnect();
}

if (FINAL.includes(config.status.status)) {
  finish();
} else if (!window.io) {
  startPolling();
} else {
  socket = live("/status", {
    auth: { ticket: config.token },
    events: { status: render, moved },
    onState: (state) => (state === "online" ? stopPolling() : startPolling()),
  });
}
