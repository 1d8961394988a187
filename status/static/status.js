// Live status of one ticket: Socket.IO first, the REST status every few seconds without it.
(() => {
  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("status-config").textContent);
  const texts = JSON.parse($("status-texts").textContent);
  const FINAL = ["done", "no_show", "cancelled", "closed"];
  let lastCalledAt = config.status.status === "called" ? config.status.called_at : null;
  let pollTimer = null;
  let audio = null;
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
    if (status.status === "called" && status.called_at !== lastCalledAt) alert();
    lastCalledAt = status.status === "called" ? status.called_at : null;
    if (FINAL.includes(status.status)) finish();
  }

  // Three beeps made by Web Audio (nothing to download) and a vibration, where allowed.
  function alert() {
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
    try {
      audio = audio || new AudioContext();
      audio.resume();
      for (let i = 0; i < 3; i += 1) {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.3;
        tone.connect(gain).connect(audio.destination);
        const at = audio.currentTime + i * 0.5;
        tone.start(at);
        tone.stop(at + 0.3);
      }
    } catch {
      // no sound on this phone: the page still changes colour and vibrates
    }
  }

  // Browsers allow sound only after a tap: the button unlocks it and plays a short beep.
  $("sound").addEventListener("click", () => {
    audio = audio || new AudioContext();
    audio.resume();
    const tone = audio.createOscillator();
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
    $("sound").hidden = true;
  });

  async function refresh() {
    try {
      const response = await fetch(`/api/v1/tickets/status/${config.token}`, { cache: "no-store" });
      if (response.ok) render(await response.json());
    } catch {
      // offline for now: the next poll tries again
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

  if (FINAL.includes(config.status.status)) return finish();
  if (!window.io) return startPolling();
  socket = window.io("/status", { auth: { ticket: config.token } });
  socket.on("connect", stopPolling);
  socket.on("disconnect", startPolling);
  socket.on("connect_error", startPolling);
  socket.on("status", render);
  socket.on("moved", refresh);
})();
