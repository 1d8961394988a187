// The kiosk's flow: language -> reason group -> reason -> priority -> ticket -> language.

import { Voice, live, pairDevice, takeToken, tones } from "/static/web/seira.js";
import { Api } from "./api.js";
import { IdleTimer } from "./idle.js";
import { loadAll, t, translatePage, use } from "./strings.js";
import { followPrinting, qrSvg, showTicket, spokenNumber } from "./ticket.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("kiosk-config").textContent);
const languages = new Map(config.languages.map((lang) => [lang.code, lang]));
const PICTOGRAMS = config.pictograms;
const TAP_GUARD_MS = 400; // a second tap of a double tap must not act on the next screen
const PROMPT_EVERY_MS = 2500;

// Marks a message for the catalogs where it is defined; t() translates it where shown.
const N_ = (message) => message;

// `key`: the English source, which also names the answer's recorded phrase
const PRIORITIES = [
  { value: "disability", pictogram: "wheelchair", key: N_("I have a disability") },
  { value: "elderly", pictogram: "old", key: N_("I am an older person") },
  { value: "pregnancy", pictogram: "woman", key: N_("I am pregnant") },
  { value: "with_infant", pictogram: "baby-carriage", key: N_("I am with a baby") },
  { value: "none", pictogram: "walk", key: N_("No") },
].map((p) => ({ ...p, label: () => t(p.key) }));

const state = {
  screen: null,
  shownAt: 0,
  quiet: false, // the visitor asked not to be called aloud
  lang: null,
  groups: [],
  group: null,
  choice: null,
  issuing: false,
  ticket: null,
  promptTimer: null,
  stale: false, // the configuration changed while a visitor was past the reason groups
};

const TOKEN_KEY = `seira.kiosk.token.${config.site}`;
const token = takeToken(TOKEN_KEY);
const api = new Api(token);
const voice = new Voice($("voice"), { url: config.speech_url, token });
// the time warning is heard too: three soft tones as it appears
const warn = () => tones([784, 659.25, 523.25], { gap: 0.3, length: 0.35 });
const idle = new IdleTimer(config.idle_s, $("countdown"), $("countdown-seconds"), goIdle, warn);

function show(screen) {
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.id !== `screen-${screen}`;
  }
  state.screen = screen;
  state.shownAt = Date.now();
  // the controls stay in the same place on every screen; only what cannot apply hides
  $("bar").hidden = ["loading", "unset"].includes(screen);
  $("back").hidden = !["groups", "reasons", "priority"].includes(screen);
  $("home").hidden = screen === "idle";
  voice.stop();
}

function setLanguage(code) {
  const lang = languages.get(code);
  document.documentElement.lang = code.replace("_", "-");
  document.documentElement.dir = lang.dir;
  use(code);
  translatePage();
  $("speak").hidden = !lang.voice;
}

function button(label, pictogram, onTap, extra = {}) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "choice";
  if (pictogram) {
    const image = document.createElement("img");
    image.src = PICTOGRAMS.replace("NAME", pictogram);
    image.alt = "";
    element.append(image);
  }
  const text = document.createElement("span");
  text.textContent = label;
  element.append(text);
  Object.assign(element.dataset, extra);
  element.addEventListener("click", () => (tapped() ? onTap() : notYet(element)));
  return element;
}

// A tap the double-tap guard ignores is shown, so that it does not look like a dead screen.
function notYet(element) {
  element.classList.remove("not-yet");
  void element.offsetWidth; // restart the animation
  element.classList.add("not-yet");
}

// False for the second tap of a double tap and for taps while a ticket is being issued.
function tapped() {
  return !state.issuing && Date.now() - state.shownAt >= TAP_GUARD_MS;
}

// --- idle: the language choice ---------------------------------------------------------------

// Nothing about the visit reason stays on the screen or in memory once a ticket is out.
function forgetChoice() {
  Object.assign(state, { groups: [], group: null, choice: null });
  setQuiet(false);
  for (const id of ["groups", "reasons", "priorities", "reasons-title"]) $(id).replaceChildren();
}

// `keepAccess`: "Start again" keeps this visitor's accessibility mode; a timeout or "Done"
// leaves the kiosk as the next visitor expects it.
function goIdle(keepAccess = false) {
  idle.disarm();
  if (!keepAccess) setAccess(false);
  forgetChoice();
  Object.assign(state, { lang: null, ticket: null, issuing: false });
  setLanguage(config.languages[0].code);
  show("idle");
  cyclePrompt();
}

function cyclePrompt() {
  clearInterval(state.promptTimer);
  const voiced = config.languages;
  let index = 0;
  const prompt = $("idle-prompt");
  const next = () => {
    const lang = voiced[index % voiced.length];
    prompt.lang = lang.code.replace("_", "-");
    prompt.dir = lang.dir;
    prompt.textContent = t("Touch your language", lang.code);
    index += 1;
  };
  next();
  state.promptTimer = setInterval(next, PROMPT_EVERY_MS);
}

function renderLanguages() {
  const box = $("languages");
  for (const lang of config.languages) {
    const element = button(lang.native, null, () => chooseLanguage(lang.code), {
      lang: lang.code,
    });
    element.className = "choice language";
    element.lang = lang.code.replace("_", "-");
    element.dir = lang.dir;
    box.append(element);
  }
}

async function chooseLanguage(code) {
  clearInterval(state.promptTimer);
  state.lang = code;
  setLanguage(code);
  idle.arm();
  if (!(await loadGroups())) return;
  show("groups");
}

// The services and reasons in the visitor's language, drawn as the group tiles.
async function loadGroups() {
  try {
    state.groups = groupsOf(await api.services(config.site, state.lang));
  } catch (error) {
    failed(error);
    return false;
  }
  state.stale = false;
  renderGroups();
  return true;
}

// An admin changed services, reasons or labels: the groups on screen are drawn again at
// once; a visitor further on keeps their choice, and sees the new groups if they go back.
async function reconfigure() {
  document.body.dataset.configured = String(Number(document.body.dataset.configured || 0) + 1);
  checkOpening(); // the hours or the closures may be what changed
  if (state.screen === "groups" && state.lang) await loadGroups();
  else state.stale = true;
}

// --- reasons ---------------------------------------------------------------------------------

// Top-level reasons with their children; a group without children ("something else") last.
function groupsOf(services) {
  const groups = [];
  for (const service of services) {
    for (const reason of service.reasons.filter((r) => !r.parent)) {
      const children = service.reasons.filter((r) => r.parent === reason.code);
      groups.push({ ...reason, service: service.slug, children });
    }
  }
  return [...groups.filter((g) => g.children.length), ...groups.filter((g) => !g.children.length)];
}

function renderGroups() {
  $("groups").replaceChildren(
    ...state.groups.map((group) =>
      button(group.label, group.pictogram, () => chooseGroup(group), {
        reason: group.code,
        key: `reason:${group.code}`,
      }),
    ),
  );
}

function chooseGroup(group) {
  state.group = group;
  if (!group.children.length) return chooseReason(group);
  $("reasons-title").textContent = group.label;
  $("reasons-title").dataset.key = `reason:${group.code}`;
  $("reasons").replaceChildren(
    ...group.children.map((reason) =>
      button(reason.label, reason.pictogram, () => chooseReason(reason), {
        reason: reason.code,
        key: `reason:${reason.code}`,
      }),
    ),
  );
  show("reasons");
}

// "Do not call my number aloud": the number is shown on the displays, never spoken.
function setQuiet(on) {
  state.quiet = on;
  $("quiet").setAttribute("aria-pressed", String(on));
}

function chooseReason(reason) {
  state.choice = { service: state.group.service, reason: reason.code };
  $("priorities").replaceChildren(
    ...PRIORITIES.map((p) =>
      button(p.label(), p.pictogram, () => issue(p.value), { priority: p.value, key: p.key }),
    ),
  );
  show("priority");
}

// --- the ticket ------------------------------------------------------------------------------

async function issue(priority) {
  if (state.issuing) return;
  state.issuing = true;
  for (const element of $("priorities").querySelectorAll("button")) element.disabled = true;
  show("issuing");
  let ticket;
  try {
    const quiet = state.quiet;
    ticket = await api.issue(config.site, { ...state.choice, lang: state.lang, priority, quiet });
  } catch (error) {
    return failed(error);
  }
  state.ticket = ticket;
  forgetChoice();
  showTicket(ticket);
  show("ticket");
  state.issuing = false;
  followPrinting(api, ticket.id, () => state.screen === "ticket" && state.ticket === ticket);
}

// What the visitor is told when a ticket could not be taken, by the server's error code.
// The database codes (503: locked elsewhere, disk full, read-only) all mean "not now".
const NOT_NOW = N_("Tickets cannot be given out just now. Please wait a minute and try again, or ask at the reception desk.");
const ERROR_TEXTS = {
  too_many_tickets: N_("Many tickets were taken here just now. Please wait a minute, or ask at the reception desk."),
  database_busy: NOT_NOW,
  database_full: NOT_NOW,
  database_read_only: NOT_NOW,
  database_io_error: NOT_NOW,
  database_unavailable: NOT_NOW,
};
const ERROR_TEXT = N_("Something went wrong. Please try again or ask at the reception desk.");

function failed(error) {
  if (error.status === 401 || error.status === 403) return notSetUp();
  if (error.code === "closed") return checkOpening();
  const text = $("error-text");
  text.dataset.t = ERROR_TEXTS[error.code] || ERROR_TEXT;
  text.textContent = t(text.dataset.t);
  idle.arm();
  show("error");
}

// No token, or one taken back: the kiosk shows a code for staff to pair it in the admin
// area (and a QR code of that page), and starts as soon as they have.
let pairing = false;
let socket = null;
function notSetUp() {
  if (socket) socket.disconnect(); // its token is refused: stop asking with it
  idle.disarm();
  clearInterval(state.promptTimer);
  localStorage.removeItem(TOKEN_KEY);
  const box = $("unset-text");
  box.replaceChildren();
  for (const code of ["el", "en"]) {
    const part = document.createElement("div");
    part.lang = code;
    const title = document.createElement("h1");
    title.textContent = t("This kiosk is not set up.", code);
    const help = document.createElement("p");
    help.textContent = t("Please ask a member of staff.", code);
    part.append(title, help);
    box.append(part);
  }
  const shown = document.createElement("div");
  shown.className = "pairing";
  const code = Object.assign(document.createElement("p"), { id: "pairing-code", className: "pairing-code" });
  const qr = Object.assign(document.createElement("div"), { className: "pairing-qr" });
  shown.append(code, qr);
  box.append(shown);
  show("unset");
  if (pairing) return;
  pairing = true;
  pairDevice({
    kind: "kiosk",
    site: config.site,
    key: TOKEN_KEY,
    onCode(text, approveUrl) {
      code.textContent = text;
      qr.innerHTML = qrSvg(approveUrl);
    },
  });
}

// --- opening hours ---------------------------------------------------------------------------

const OPENING_EVERY_MS = 60000;
const CALM_SCREENS = ["idle", "closed", "error"]; // where nobody is in the middle of a visit
let closedTimer = null;

// Outside opening hours the kiosk says so in every language, with when it opens again,
// and issues nothing (the server refuses too). A visitor in the middle of the flow is not
// interrupted: the kiosk closes once it is back at a calm screen.
async function checkOpening() {
  let found;
  try {
    found = await api.opening(config.site);
  } catch (error) {
    if (error.status === 401 || error.status === 403) notSetUp();
    return; // offline: the kiosk stays as it is
  }
  if (!found.open && CALM_SCREENS.includes(state.screen)) showClosed(found.opens_at);
  else if (found.open && state.screen === "closed") goIdle();
}

function showClosed(opensAt) {
  idle.disarm();
  clearInterval(state.promptTimer);
  forgetChoice();
  show("closed");
  const box = $("closed-text");
  const when = opensAt ? new Date(opensAt) : null;
  const say = (lang) => {
    const title = Object.assign(document.createElement("h1"), { textContent: t("We are closed now.", lang) });
    const parts = [title];
    if (when) {
      const shown = new Intl.DateTimeFormat(lang.replace("_", "-"), {
        weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
        hour12: false, timeZone: config.timezone,
      }).format(when);
      parts.push(Object.assign(document.createElement("p"), { textContent: t("We open again: %(when)s", lang).replace("%(when)s", shown) }));
    }
    return parts;
  };
  let index = 0;
  const next = () => {
    const lang = config.languages[index % config.languages.length];
    box.lang = lang.code.replace("_", "-");
    box.dir = lang.dir;
    box.replaceChildren(...say(lang.code));
    index += 1;
  };
  next();
  clearInterval(closedTimer);
  closedTimer = setInterval(() => (state.screen === "closed" ? next() : clearInterval(closedTimer)), PROMPT_EVERY_MS);
}

// --- controls: back, start again, read aloud -------------------------------------------------

function back() {
  if (state.screen === "priority" && state.group.children.length) return show("reasons");
  if (state.screen === "priority" || state.screen === "reasons") {
    show("groups");
    if (state.stale) loadGroups();
    return;
  }
  goIdle();
}

// What "Read aloud" says, a part per thing on the screen: the title, then each tile in
// turn (lit up while it is said), then whatever else the screen tells.
function spokenParts() {
  const section = $(`screen-${state.screen}`);
  const parts = [];
  for (const element of section.querySelectorAll("h1, p, dt, dd, .choice")) {
    if (element.closest("[hidden]") || !element.textContent.trim()) continue;
    const text = element.id === "ticket-number" ? spokenNumber(element.textContent) : element.textContent;
    // the English source names the phrase an interpreter may have recorded for it
    const key = element.dataset.t || element.dataset.key;
    parts.push({ lang: state.lang, text: text.trim(), element, key });
  }
  return parts;
}

function readAloud() {
  let parts;
  if (state.screen === "idle") {
    parts = config.languages
      .filter((lang) => lang.voice)
      .map((lang) => ({
        lang: lang.code,
        text: t("Touch your language", lang.code),
        key: "Touch your language",
        element: document.querySelector(`#languages button[data-lang="${lang.code}"]`),
      }));
  } else if (state.lang) {
    parts = spokenParts();
  } else {
    return;
  }
  const lit = (i) => {
    for (const element of document.querySelectorAll(".speaking")) element.classList.remove("speaking");
    if (i >= 0 && parts[i].element) parts[i].element.classList.add("speaking");
  };
  voice.say(parts, { onPart: lit });
}

function setAccess(on) {
  document.body.classList.toggle("access", on);
  $("access").setAttribute("aria-pressed", String(on));
}

const ACTIONS = {
  back,
  home: () => goIdle(true),
  done: () => goIdle(),
  speak: readAloud,
  access: () => setAccess(!document.body.classList.contains("access")),
  more: () => idle.more(),
  quiet: () => setQuiet(!state.quiet),
};
// never guarded: these change nothing of the visit, and are pressed in a hurry
const UNGUARDED = new Set(["speak", "access", "more"]);

document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-action]");
  if (!target) return;
  const action = target.dataset.action;
  if (UNGUARDED.has(action) || tapped()) ACTIONS[action]();
  else notYet(target);
});

// --- start -----------------------------------------------------------------------------------

async function start() {
  await loadAll(config.strings_url, config.languages.map((lang) => lang.code));
  if (!token) return notSetUp();
  try {
    await api.services(config.site, config.languages[0].code);
  } catch (error) {
    if (error.status === 401 || error.status === 403) return notSetUp();
  }
  renderLanguages();
  goIdle();
  checkOpening();
  setInterval(checkOpening, OPENING_EVERY_MS);
  socket = live("/kiosk", {
    auth: { token },
    events: {
      config: reconfigure,
      // taken back in the admin area: forget the token, show that it must be set up again
      revoked: notSetUp,
    },
    onState: (s) => s === "refused" && notSetUp(),
  });
}

start();
