// The mediator's page: their state, the counters' requests (accept one to be joined), the
// waiting per language and the other mediators. It follows the site's `queue` events on
// Socket.IO (/counter) and refetches its data from the server, which holds the truth.

import { debounce, languageName, live, request, tableRow, tell } from "/static/web/seira.js";

const root = document.getElementById("mediator");
const base = root.dataset.base;
const words = JSON.parse(document.getElementById("words").textContent);
const t = JSON.parse(document.getElementById("phrases").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const minutes = (s) => `${Math.floor(s / 60)} ${t.minutes}`;
const language = (code) => languageName(words.languages, code);

function explain(error) {
  if (error.code === "offline") return t.offline;
  return t.errors[error.code] || `${t.failed} ${error.message || error.code}`;
}

async function post(path) {
  const { data, error } = await request(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: "{}",
  });
  if (error) {
    tell($("message"), explain(error), { error: true });
    refresh();
    return;
  }
  tell($("message"), "");
  show(data);
}

function show(data) {
  const me = data.me;
  const badge = $("my-state");
  badge.textContent = words.mediator_states[me.state] || me.state;
  badge.className = "badge " + (me.state === "available" ? "ok" : me.state === "busy" ? "warn" : "");
  for (const button of root.querySelectorAll("[data-say]")) {
    button.disabled = button.dataset.say === me.state && !me.ticket;
  }
  $("joined").hidden = !me.ticket;
  if (me.ticket) {
    $("joined").textContent = t.joined
      .replace("{number}", me.ticket)
      .replace("{counter}", me.counter_label || "")
      .replace("{language}", language(me.ticket_lang));
  }
  $("no-requests").hidden = data.requests.length > 0;
  $("requests").replaceChildren(
    ...data.requests.map((r) => {
      const li = document.createElement("li");
      li.dataset.number = r.number;
      const text = document.createElement("span");
      text.textContent = `${r.number} · ${language(r.lang)} · ${r.counter_label || ""} · ${minutes(r.waited_s)}`;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "primary";
      button.textContent = t.accept;
      button.addEventListener("click", () => post(`/requests/${r.id}/accept`));
      li.append(text, " ", button);
      return li;
    })
  );
  $("no-languages").hidden = data.languages.length > 0;
  $("languages").tBodies[0].replaceChildren(
    ...data.languages.map((l) => tableRow([[language(l.lang)], [String(l.waiting), "num"], [minutes(l.oldest_wait_s), "num"]]))
  );
  $("mediators").tBodies[0].replaceChildren(
    ...data.mediators.map((m) =>
      tableRow([
        [m.user],
        [m.languages.map(language).join(", ")],
        [words.mediator_states[m.state] || m.state],
        [m.ticket ? `${m.ticket} · ${m.counter_label || ""}` : ""],
      ])
    )
  );
}

async function refresh() {
  const { data, error } = await request(base + "/state");
  if (data) show(data);
  else if (error) tell($("message"), explain(error), { error: true });
}

for (const button of root.querySelectorAll("[data-say]")) {
  button.addEventListener("click", () => post("/" + button.dataset.say));
}
const soon = debounce(refresh, 100);
live("/counter", {
  auth: { site: root.dataset.site },
  events: { queue: soon, config: soon },
  onState(state) {
    $("reconnecting").hidden = state === "online";
    if (state === "online") soon();
  },
});
setInterval(refresh, 15000);
refresh();
root.dataset.ready = "1";
