// Back to the language screen after a pause, with a visible countdown before it happens.

const WARN_S = 15;

export class IdleTimer {
  constructor(seconds, box, counter, onTimeout) {
    this.seconds = seconds;
    this.box = box;
    this.counter = counter;
    this.onTimeout = onTimeout;
    this.deadline = null;
    this.timer = null;
    // Any touch anywhere (the countdown included) restarts the pause.
    document.addEventListener("pointerdown", () => this.deadline && this.arm(), true);
  }

  arm() {
    this.deadline = Date.now() + this.seconds * 1000;
    this.box.hidden = true;
    if (!this.timer) this.timer = setInterval(() => this.tick(), 200);
  }

  disarm() {
    this.deadline = null;
    this.box.hidden = true;
    clearInterval(this.timer);
    this.timer = null;
  }

  tick() {
    const left = Math.ceil((this.deadline - Date.now()) / 1000);
    if (left <= 0) {
      this.disarm();
      this.onTimeout();
    } else if (left <= Math.min(WARN_S, this.seconds)) {
      this.counter.textContent = String(left);
      this.box.hidden = false;
    }
  }
}
