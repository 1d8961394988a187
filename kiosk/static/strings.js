// Translated strings: each language's `visitors` catalog as {English text: translation}.

const catalogs = new Map();
let current = {};

export async function loadAll(urlTemplate, codes) {
  await Promise.all(
    codes.map(async (code) => {
      try {
        const response = await fetch(urlTemplate.replace("LANG", code));
        catalogs.set(code, response.ok ? await response.json() : {});
      } catch {
        catalogs.set(code, {});
      }
    }),
  );
}

export function use(code) {
  current = catalogs.get(code) || {};
}

// The translation of `message` (English source text) in the current or a given language.
export function t(message, code = null) {
  const catalog = code ? catalogs.get(code) || {} : current;
  return catalog[message] || message;
}

// Elements marked data-t="<English text>" get their text in the current language, and
// those marked data-t-label their accessible name (a button with a pictogram only).
export function translatePage(root = document) {
  for (const element of root.querySelectorAll("[data-t]")) {
    element.textContent = t(element.dataset.t);
  }
  for (const element of root.querySelectorAll("[data-t-label]")) {
    element.setAttribute("aria-label", t(element.dataset.tLabel));
  }
}
