// The counter workstation: the ticket at this counter, the waiting lists of the services it
// serves, and the actions on them (buttons and one-key shortcuts). The lists follow the
// site's `queue` events on Socket.IO (/counter) and are refetched from the server, which
// holds the truth; a 15-second refresh keeps waiting times current. A refusal is shown in
// the staff member's language, from its code.

import { debounce, languageName, live, request, tell, timeFormat } from "/static/web/seira.js";

const root = document.getElementById("workstation");
const base = root.dataset.base;
const words = JSON.parse(document.getElementById("words").textContent);
const t = JSON.parse(document.getElementById("phrases").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const clockFormat = timeFormat(document.documentElement.lang, root.dataset.timezone, { seconds: true });
const clock = (when) => clockFormat.format(new Date(when));
let screen = null;
let busy = false;

// --- talking to the server -----------------------------------------------------------------
function say(text, isError) {
  tell($("message"), text, { error: isError });
}

function explain(error) {
  if (error.code === "offline") return t.offline;
  return t.errors[error.code] || words.faults[error.code] || `${t.failed} ${error.message || error.code}`;
}

async function post(path, body) {
  const { status, data, error } = await request(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
  });
  if (error) {
    say(explain(error), true);
    if (["not_found", "invalid_transition", "not_at_counter", "mediator_joined"].includes(error.code)) refresh();
    return null;
  }
  return status === 204 ? { nobody: true } : data;
}

async function refresh() {
  const { data, error } = await request(base + "/state");
  if (data) {
    if ($("message").textContent === t.offline) say(""); // reached again: the notice goes
    show(data);
  } else if (error) say(explain(error), true);
}

const refreshSoon = debounce(refresh, 100);

// --- drawing -------------------------------------------------------------------------------
function minutes(seconds) {
  return `${Math.floor(seconds / 60)} ${t.minutes}`;
}

const language = (code) => languageName(words.languages, code);

function reasonText(reason) {
  if (!reason) return "—";
  const text = reason.group && reason.group !== reason.label ? `${reason.group} › ${reason.label}` : reason.label;
  return reason.sensitive ? `🔒 ${t.confidential}: ${text}` : text;
}

function show(data) {
  screen = data;
  const current = data.current;
  $("current").hidden = !current;
  $("current-empty").hidden = !!current;
  const state = $("counter-state");
  state.textContent = words.states[data.state] || data.state;
  state.className = "badge " + (data.state === "available" ? "ok" : data.state === "paused" ? "warn" : "");
  if (current) {
    $("current-number").textContent = current.number;
    $("current-lang").textContent = language(current.lang);
    $("current-service").textContent = words.services[current.service] || current.service;
    $("current-priority").textContent = words.priorities[current.priority] || current.priority;
    $("current-reason").textContent = reasonText(current.reason);
    $("current-status").textContent = words.statuses[current.status] || current.status;
    $("current-waited").textContent = minutes(current.waited_s);
    const mediator = current.mediator;
    $("current-mediator").textContent = !mediator ? "—" : mediator.state === "joined" ? `${t.mediator_joined} ${mediator.user}` : t.mediator_asked;
    const warning = $("language-warning");
    warning.hidden = current.speaks || (mediator && mediator.state === "joined");
    warning.textContent = t.not_spoken.replace("{language}", language(current.lang));
  }
  const allowed = new Set(current ? current.actions : []);
  for (const button of root.querySelectorAll("[data-do]")) {
    const action = button.dataset.do;
    let enabled;
    if (action === "call-next") enabled = !current && data.state !== "paused";
    else if (action === "pause") enabled = data.state !== "paused";
    else if (action === "resume") enabled = data.state !== "available";
    else if (action === "ask-mediator") enabled = !!current && !current.mediator;
    else enabled = allowed.has(action);
    button.disabled = !enabled;
    button.hidden = (action === "pause" && data.state === "paused") || (action === "resume" && data.state === "available");
  }
  drawLists(data.services);
  drawFailures(data.print_failures || []);
  drawAlarms(data.alarms || []);
}

// open silent alarms of the centre: shown to staff only, never with a sound
function drawAlarms(alarms) {
  const box = $("alarms");
  box.hidden = alarms.length === 0;
  box.replaceChildren(
    ...alarms.map((alarm) => {
      const line = document.createElement("p");
      line.dataset.counter = alarm.counter;
      line.textContent = t.alarm_at.replace("{counter}", alarm.counter_label).replace("{time}", clock(alarm.raised_at));
      return line;
    })
  );
}

async function raiseAlarm() {
  const data = await post("/alarm");
  if (data) {
    show(data);
    say(t.alarm_sent);
  }
}

// "not printed: out of paper", "sent, not confirmed by the printer: the printer did not answer"
function printOutcome(failure) {
  const status = words.prints.statuses[failure.status] || failure.status;
  const reason = words.prints.reasons[failure.reason];
  return reason ? `${status}: ${reason}` : status;
}

function drawFailures(failures) {
  const box = $("print-failures");
  box.hidden = failures.length === 0;
  box.querySelector("ul").replaceChildren(
    ...failures.map((failure) => {
      const item = document.createElement("li");
      item.dataset.number = failure.number;
      item.dataset.status = failure.status;
      const text = document.createElement("span");
      text.textContent = `${failure.number} · ${clock(failure.at)} · ${printOutcome(failure)}`;
      text.title = failure.error; // the printer's own words, in English
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t.reprint;
      button.dataset.reprint = String(failure.id);
      button.addEventListener("click", async () => {
        button.disabled = true;
        const data = await post(`/tickets/${failure.id}/reprint`);
        if (data) {
          say(`${t.reprinting} ${failure.number}`);
          show(data);
        } else button.disabled = false;
      });
      item.append(text, " ", button);
      return item;
    })
  );
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function drawLists(services) {
  $("lists").replaceChildren(
    ...services.map((service) => {
      const section = document.createElement("section");
      section.className = "service-list";
      section.dataset.service = service.service;
      const heading = document.createElement("h3");
      heading.textContent = `${service.label} (${service.tickets.length})`;
      section.append(heading);
      if (!service.tickets.length) {
        const p = document.createElement("p");
        p.className = "muted";
        p.textContent = t.empty;
        section.append(p);
        return section;
      }
      const table = document.createElement("table");
      const head = document.createElement("tr");
      for (const h of [t.number, t.waited, t.language, t.priority, t.reason]) {
        const th = document.createElement("th");
        th.textContent = h;
        head.append(th);
      }
      table.append(head);
      for (const ticket of service.tickets) {
        const row = document.createElement("tr");
        row.dataset.number = ticket.number;
        const over = ticket.waited_s > service.max_wait_s;
        row.append(
          cell(ticket.number, "num strong"),
          cell(minutes(ticket.waited_s) + (over ? ` · ${t.over}` : ""), over ? "num over" : "num"),
          cell(language(ticket.lang)),
          cell(ticket.priority === "none" ? "" : words.priorities[ticket.priority] || ticket.priority),
          cell(ticket.reason ? ticket.reason.label : "—")
        );
        table.append(row);
      }
      section.append(table);
      return section;
    })
  );
}

// --- actions -------------------------------------------------------------------------------
async function run(action) {
  if (busy) return;
  const button = root.querySelector(`[data-do="${action}"]`);
  if (button && button.disabled) return;
  busy = true;
  say("");
  try {
    let data = null;
    const ticket = screen && screen.current;
    if (action === "call-next") data = await post("/call-next");
    else if (action === "pause" || action === "resume") data = await post("/" + action);
    else if (action === "finish") {
      // asked only where it may be so: a language the staff member does not speak, and
      // no mediator joined (the unmet-demand report counts the answers)
      const joined = ticket.mediator && ticket.mediator.state === "joined";
      $("without-mediator-choice").hidden = ticket.speaks || joined;
      $("finish-form").elements.without_mediator.checked = false;
      const choice = await ask("finish");
      if (choice) data = await post(`/tickets/${ticket.id}/finish`, choice);
    } else if (action === "transfer") {
      const choice = await ask("transfer");
      if (choice) data = await post(`/tickets/${ticket.id}/transfer`, choice);
    } else if (ticket) data = await post(`/tickets/${ticket.id}/${action}`);
    if (data && data.nobody) {
      say(t.nobody);
      refresh();
    } else if (data) {
      show(data);
      if (action === "call-next" && data.current) say(`${t.called}: ${data.current.number}`);
    }
  } finally {
    busy = false;
  }
}

function ask(kind) {
  const dialog = $(`${kind}-dialog`);
  const form = $(`${kind}-form`);
  return new Promise((resolve) => {
    dialog.onclose = () => {
      if (dialog.returnValue !== "ok") return resolve(null);
      const data = new FormData(form);
      if (kind === "transfer") return resolve({ service: data.get("service") });
      const outcome = data.get("outcome");
      const referral = outcome === "referred_internal" ? data.get("internal") : outcome === "referred_external" ? data.get("external") : null;
      const body = referral ? { outcome, referral } : { outcome };
      if (!$("without-mediator-choice").hidden && data.get("without_mediator")) body.without_mediator = true;
      resolve(body);
    };
    dialog.returnValue = "";
    dialog.showModal();
  });
}

const finishForm = $("finish-form");
finishForm.addEventListener("change", () => {
  const outcome = new FormData(finishForm).get("outcome");
  $("internal-choice").hidden = outcome !== "referred_internal";
  $("external-choice").hidden = outcome !== "referred_external";
});

for (const button of root.querySelectorAll("[data-do]")) {
  button.addEventListener("click", () => run(button.dataset.do));
}
$("raise-alarm").addEventListener("click", raiseAlarm);
document.addEventListener("keydown", (event) => {
  if (event.altKey && event.shiftKey && !event.ctrlKey && event.code === "KeyA") {
    event.preventDefault(); // the silent alarm works from anywhere on the page, dialogs too
    raiseAlarm();
    return;
  }
  if (event.ctrlKey || event.altKey || event.metaKey) return;
  if (document.querySelector("dialog[open]")) return;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) return;
  // the key's place on the keyboard (KeyN), not the letter it types: a Greek layout gives
  // 'ν' there, and staff switch layouts all day
  const key = /^Key[A-Z]$/.test(event.code) ? event.code.slice(3).toLowerCase() : event.key.toLowerCase();
  const button = Array.from(root.querySelectorAll("[data-key]")).find((b) => b.dataset.key === key && !b.hidden && !b.disabled);
  if (button) {
    event.preventDefault();
    run(button.dataset.do);
  }
});

// --- live updates --------------------------------------------------------------------------
live("/counter", {
  auth: { site: root.dataset.site },
  // config: services or labels changed; alarm: a silent alarm raised or acknowledged
  events: { queue: refreshSoon, config: refreshSoon, alarm: refresh },
  onState(state) {
    $("reconnecting").hidden = state === "online";
    if (state === "online") refreshSoon();
  },
});
setInterval(refresh, 15000);
refresh();
root.dataset.ready = "1";
