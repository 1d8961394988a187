// Read aloud: WAV from the server's offline speech engine (GET /speech), played in order.

const MAX_TEXT = 400; // the server's limit per request

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

export class Voice {
  constructor(audio, url, token) {
    this.audio = audio;
    this.url = url;
    this.token = token;
    this.run = 0;
  }

  // Say each {lang, text} in turn; a new call or stop() interrupts the one playing.
  async say(parts) {
    this.stop();
    const run = this.run;
    for (const { lang, text } of parts) {
      for (const piece of chunks(text)) {
        const query = new URLSearchParams({ lang, text: piece });
        let response;
        try {
          response = await fetch(`${this.url}?${query}`, {
            headers: { Authorization: `Bearer ${this.token}` },
          });
        } catch {
          return;
        }
        if (run !== this.run) return;
        if (!response.ok) continue;
        const blob = await response.blob();
        if (run !== this.run) return;
        await this.play(URL.createObjectURL(blob));
        if (run !== this.run) return;
      }
    }
  }

  play(src) {
    const previous = this.audio.src;
    this.audio.src = src;
    if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
    return new Promise((resolve) => {
      const done = () => {
        this.audio.removeEventListener("ended", done);
        this.audio.removeEventListener("error", done);
        this.audio.removeEventListener("pause", done);
        resolve();
      };
      this.audio.addEventListener("ended", done);
      this.audio.addEventListener("error", done);
      this.audio.addEventListener("pause", done);
      this.audio.play().catch(done);
    });
  }

  stop() {
    this.run += 1;
    this.audio.pause();
  }
}
