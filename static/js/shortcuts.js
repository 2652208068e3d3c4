// Keyboard shortcuts of the review page (off while typing in a field).

import { isTyping } from "./dom.js";

export const SHORTCUTS = [
  [["j"], "Next finding"],
  [["k"], "Previous finding"],
  [["n", "]"], "Next section"],
  [["p", "["], "Previous section"],
  [["a"], "Accept the selected finding"],
  [["r"], "Reject the selected finding (asks why: Enter keeps the reason, Esc cancels)"],
  [["u"], "Revert the selected finding to pending"],
  [["e"], "Edit the selected comment (your own findings)"],
  [["c", "/"], "Ask in the chat"],
  [["s"], "Statistics"],
  [["?"], "This help"],
  [["Esc"], "Close a dialog, clear the selection"],
];

/** handlers: {next, prev, nextSection, prevSection, accept, reject, revert, edit, chat, stats, help, escape} */
export function installShortcuts(handlers) {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") {
      if (!document.querySelector("dialog[open]")) handlers.escape && handlers.escape();
      return;
    }
    if (isTyping(e.target) || document.querySelector("dialog[open]")) return;
    const map = {
      j: handlers.next, k: handlers.prev,
      n: handlers.nextSection, "]": handlers.nextSection,
      p: handlers.prevSection, "[": handlers.prevSection,
      a: handlers.accept, r: handlers.reject, u: handlers.revert, e: handlers.edit,
      c: handlers.chat, "/": handlers.chat, s: handlers.stats, "?": handlers.help,
    };
    const fn = map[e.key];
    if (!fn) return;
    // A focused button keeps Enter/Space; letters are ours.
    e.preventDefault();
    fn();
  });
}
