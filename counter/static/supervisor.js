// The supervisor's live view: refetches the centre's state whenever its queue changes
// (Socket.IO /counter) and every 10 seconds, so waiting times keep counting. "Reconnecting"
// follows the live connection; a failed fetch says so until the next one succeeds.

import { debounce, languageName, live, request, tableRow, tell, timeFormat } from "/static/web/seira.js";

const root = document.getElementById("supervisor");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const words = JSON.parse(document.getElementById("words").textContent);
const t = JSON.parse(document.getElementById("phrases").textContent);
const $ = (id) => document.getElementById(id);
const clockFormat = timeFormat(document.documentElement.lang, root.dataset.timezone, { seconds: true });
const clock = (when) => clockFormat.format(new Date(when));
const language = (code) => languageName(words.languages, code);
const minutes = (s) => (s === null || s === undefined ? "" : `${Math.floor(s / 60)} ${t.minutes}`);

function show(data) {
  const over = data.services.filter((s) => s.over);
  $("services").tBodies[0].replaceChildren(
    ...data.services.map((s) =>
      tableRow(
        [
          [words.services[s.service] || s.label],
          [String(s.waiting), "num"],
          [minutes(s.oldest_wait_s), "num"],
          [minutes(s.max_wait_s), "num"],
        ],
        s.over ? "over" : ""
      )
    )
  );
  $("counters").tBodies[0].replaceChildren(
    ...data.counters.map((c) =>
      tableRow([
        [c.label],
        [words.states[c.state] || c.state],
        [c.user || ""],
        [c.ticket ? `${c.ticket.number} · ${words.statuses[c.ticket.status] || c.ticket.status}` : ""],
        [minutes(c.ticket_for_s), "num"],
      ])
    )
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
  $("no-mediators").hidden = data.mediators.length > 0;
  $("requests").replaceChildren(
    ...data.requests.map((r) => {
      const li = document.createElement("li");
      li.dataset.number = r.number;
      li.textContent = `${r.number} · ${language(r.lang)} · ${r.counter_label || ""} · ${minutes(r.waited_s)}`;
      return li;
    })
  );
  $("no-requests").hidden = data.requests.length > 0;
  $("no-languages").hidden = data.languages.length > 0;
  $("languages").tBodies[0].replaceChildren(
    ...data.languages.map((l) => {
      const tr = tableRow([[language(l.lang)], [String(l.waiting), "num"], [minutes(l.oldest_wait_s), "num"]]);
      tr.dataset.lang = l.lang;
      return tr;
    })
  );
  drawAlarms(data.alarms || []);
  const alert = $("alert");
  alert.hidden = over.length === 0;
  alert.textContent = over.length ? `${t.over} ${over.map((s) => words.services[s.service] || s.label).join(", ")}` : "";
  const failures = data.print_failures || [];
  $("print-failures").hidden = failures.length === 0;
  $("print-failures").querySelector("ul").replaceChildren(
    ...failures.map((f) => {
      const li = document.createElement("li");
      const status = words.prints.statuses[f.status] || f.status;
      const reason = words.prints.reasons[f.reason];
      li.dataset.status = f.status;
      li.textContent = `${f.number} · ${clock(f.at)} · ${reason ? `${status}: ${reason}` : status}`;
      li.title = f.error; // the printer's own words, in English
      return li;
    })
  );
  $("updated").textContent = clock(new Date());
  const fault = data.database_fault;
  $("fault").hidden = !fault;
  $("fault").textContent = fault ? words.faults[fault] || fault : "";
}

// silent alarms: the open ones on top with a button each, today's acknowledged ones below
function drawAlarms(alarms) {
  const open = alarms.filter((a) => !a.acknowledged_at);
  const done = alarms.filter((a) => a.acknowledged_at);
  $("alarms").hidden = open.length === 0;
  $("alarms").querySelector("ul").replaceChildren(
    ...open.map((a) => {
      const li = document.createElement("li");
      li.dataset.counter = a.counter;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t.acknowledge;
      button.addEventListener("click", () => acknowledge(a.id, button));
      li.append(t.alarm_at.replace("{counter}", a.counter_label).replace("{time}", clock(a.raised_at)), " ", button);
      return li;
    })
  );
  $("alarms-done").hidden = done.length === 0;
  $("alarms-done").querySelector("ul").replaceChildren(
    ...done.map((a) => {
      const li = document.createElement("li");
      li.textContent = t.acknowledged
        .replace("{counter}", a.counter_label)
        .replace("{time}", clock(a.raised_at))
        .replace("{user}", a.acknowledged_by || "");
      return li;
    })
  );
}

async function acknowledge(id, button) {
  button.disabled = true;
  const { data, error } = await request(`${root.dataset.base}/alarms/${id}/acknowledge`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: "{}",
  });
  if (data) show(data);
  else if (error) {
    tell($("message"), `${t.failed} ${error.message || error.code}`, { error: true });
    refresh();
  }
}

async function refresh() {
  const { data, error } = await request(root.dataset.state);
  if (data) {
    tell($("message"), "");
    show(data);
  } else if (error) {
    const text = error.code === "offline" ? t.offline : words.faults[error.code] || `${t.failed} ${error.message}`;
    tell($("message"), text, { error: true });
  }
}

const soon = debounce(refresh, 100);
live("/counter", {
  auth: { site: root.dataset.site },
  // config: services or labels changed; alarm: a silent alarm, at once
  events: { queue: soon, config: soon, alarm: refresh },
  onState(state) {
    $("reconnecting").hidden = state === "online";
    if (state === "online") soon();
  },
});
setInterval(refresh, 10000);
refresh();
