// The reviewer's name, as other viewers see it (kept in localStorage).

import { h } from "../dom.js";
import { dialogShell } from "./dialogs.js";

export function createNameDialog(dialog, ctx) {
  const shell = dialogShell(dialog, "name-title", "Your name");
  const input = h("input", { type: "text", id: "name-input", maxLength: 60, autocomplete: "name" });
  const form = h("form", { class: "name-form" },
    h("label", { class: "field", for: "name-input" }, h("span", null, "Shown to the other people on this review, and on your decisions and comments"), input),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "btn", onclick: () => shell.close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, "Save")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = input.value.trim().slice(0, 60);
    if (name) ctx.actions.setName(name);
    shell.close();
  });
  shell.body.appendChild(form);
  return {
    open() {
      input.value = ctx.ui.name;
      shell.open();
      input.select();
    },
  };
}
