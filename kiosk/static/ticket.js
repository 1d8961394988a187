// The ticket screen: number, QR code of the status page, wait, and the printer's answer.

import { t } from "./strings.js";

const POLL_MS = 1000;
const POLL_FOR_MS = 10000;

export function qrSvg(text) {
  const code = window.qrcode(0, "M");
  code.addData(text);
  code.make();
  return code.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
}

// "A007" read as "A 7": speech engines read zeros one by one.
export function spokenNumber(number) {
  return number.replace(/^([A-Za-z]*)0*(\d)/, "$1 $2");
}

export function showTicket(ticket) {
  document.getElementById("ticket-number").textContent = ticket.number;
  document.getElementById("ticket-ahead").textContent = String(ticket.people_ahead);
  document.getElementById("ticket-wait").textContent = String(
    Math.ceil(ticket.estimated_wait_s / 60),
  );
  document.getElementById("ticket-qr").innerHTML = qrSvg(ticket.status_url);
  // a quiet ticket is shown on the displays, never called out: the visitor is told so
  document.getElementById("where-called").hidden = !!ticket.quiet;
  document.getElementById("where-shown").hidden = !ticket.quiet;
}

// Ask the printer's state every second for ten seconds; anything but "printed" (the printer
// confirmed it; "unconfirmed" paper may not have come out) means the screen is the ticket.
// `stillShown()` stops the polling once the visitor has left.
export async function followPrinting(api, ticketId, stillShown) {
  const state = document.getElementById("print-state");
  const say = (text, warn) => {
    state.textContent = text;
    state.classList.toggle("warn", warn);
  };
  say(t("Printing your ticket…"), false);
  const until = Date.now() + POLL_FOR_MS;
  let status = "pending";
  while (stillShown()) {
    try {
      status = await api.printStatus(ticketId);
    } catch {
      status = "pending"; // the network hiccuped: ask again
    }
    if (status !== "pending" || Date.now() >= until) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (!stillShown()) return;
  if (status === "printed") say(t("Take your printed ticket."), false);
  else say(t("Please take a photo of this screen: it is your ticket."), true);
}
