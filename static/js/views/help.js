// The keyboard shortcuts overlay.

import { h, addChildren } from "../dom.js";
import { SHORTCUTS } from "../shortcuts.js";
import { dialogShell } from "./dialogs.js";

export function createHelpDialog(dialog) {
  const shell = dialogShell(dialog, "help-title", "Keyboard shortcuts");
  addChildren(shell.body, 
    h("dl", { class: "shortcut-list" }, SHORTCUTS.map(([keys, what]) => [
      h("dt", null, keys.map((k, i) => [i ? h("span", { class: "or" }, " or ") : null, h("kbd", null, k)])),
      h("dd", null, what),
    ])),
    h("p", { class: "hint" }, "Shortcuts are off while you type in a field. Select text in the document to add your own comment."));
  return shell;
}
