// Back to the language screen after a pause, with a warning first: on screen, by sound
// (`onWarn`), and a button that gives the visitor more time.

const WARN_S = 15; // at most; a pause shorter than 30 s warns for its last half

export class IdleTimer {
  constructor(seconds, box, counter, onTimeout, onWarn = () => {}) {
    this.base = seconds;
    this.seconds = seconds;
    this.box = box;
    this.counter = counter;
    this.onTimeout = onTimeout;
    this.onWarn = onWarn;
    this.deadline = null;
    this.timer = null;
    this.warned = false;
    // Any touch anywhere (the warning included) restarts the pause; the warning's own
    // button stays in place until its click has done its work.
    document.addEventListener(
      "pointerdown",
      (event) => {
        if (!this.deadline || (this.box.contains(event.target) && event.target.closest("button"))) return;
        this.arm();
      },
      true
    );
  }

  arm() {
    this.deadline = Date.now() + this.seconds * 1000;
    this.box.hidden = true;
    this.warned = false;
    if (!this.timer) this.timer = setInterval(() => this.tick(), 200);
  }

  // "I need more time": twice the pause, for as long as this visitor stays
  more() {
    this.seconds = this.base * 2;
    this.arm();
  }

  disarm() {
    this.deadline = null;
    this.seconds = this.base;
    this.box.hidden = true;
    clearInterval(this.timer);
    this.timer = null;
  }

  tick() {
    const left = Math.ceil((this.deadline - Date.now()) / 1000);
    if (left <= 0) {
      this.disarm();
      this.onTimeout();
    } else if (left <= Math.min(WARN_S, Math.ceil(this.seconds / 2))) {
      // a short pause warns in its second half only: the warning is never the whole pause
      this.counter.textContent = String(left);
      this.box.hidden = false;
      if (!this.warned) {
        this.warned = true;
        this.onWarn();
      }
    }
  }
}
