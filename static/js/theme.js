// Light and dark themes: the system's by default, or the reviewer's choice (kept in
// localStorage), or ?theme= in the URL / data-theme on <html> (tests force either).

import { icon, setChildren } from "./dom.js";

const KEY = "redline.theme";
const ORDER = ["system", "light", "dark"];
const LABEL = { system: "Theme: follow the system", light: "Theme: light", dark: "Theme: dark" };
const ICON = { system: "monitor", light: "sun", dark: "moon" };

export function currentChoice() {
  const attr = document.documentElement.getAttribute("data-theme");
  if (document.documentElement.hasAttribute("data-theme-forced") && attr) return attr;
  let saved = null;
  try { saved = localStorage.getItem(KEY); } catch { /* ignore */ }
  return saved === "light" || saved === "dark" ? saved : "system";
}

export function effectiveTheme() {
  const attr = document.documentElement.getAttribute("data-theme");
  if (attr === "light" || attr === "dark") return attr;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyChoice(choice) {
  const root = document.documentElement;
  root.removeAttribute("data-theme-forced");
  if (choice === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", choice);
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch { /* ignore */ }
}

/** Wire a button that cycles system -> light -> dark. */
export function themeToggle(button) {
  const paint = () => {
    const choice = currentChoice();
    setChildren(button, icon(ICON[choice]));
    button.setAttribute("aria-label", LABEL[choice]);
    button.title = `${LABEL[choice]} (click to change)`;
  };
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(currentChoice()) + 1) % ORDER.length];
    applyChoice(next);
    paint();
  });
  paint();
}
