// The reviewer's own finding: add (anchored on a selected quote) or edit.

import { h, icon, setChildren } from "../dom.js";
import { dialogShell } from "./dialogs.js";

const CATEGORIES = ["Evidence", "Root cause", "Timeline", "Actions", "Clarity", "Scope", "Human factors", "Reviewer note"];

export function createCommentDialog(dialog, ctx) {
  const shell = dialogShell(dialog, "comment-title", "Add comment");
  const title = dialog.querySelector("#comment-title");
  const quoteBox = h("blockquote", { class: "comment-quote" });
  const where = h("p", { class: "hint comment-where" });
  const type = h("select", { id: "comment-type", name: "type" },
    h("option", { value: "critical" }, "Critical"), h("option", { value: "important" }, "Important"),
    h("option", { value: "suggestion" }, "Suggestion"));
  const risks = ["high", "medium", "low"].map((r) => h("label", { class: `risk-radio risk-${r}` },
    h("input", { type: "radio", name: "risk", value: r }), h("span", null, r[0].toUpperCase() + r.slice(1))));
  const category = h("input", { type: "text", id: "comment-category", name: "category", maxLength: 80, list: "comment-categories", placeholder: "Reviewer note" });
  const datalist = h("datalist", { id: "comment-categories" }, CATEGORIES.map((c) => h("option", { value: c })));
  const description = h("textarea", { id: "comment-description", name: "description", rows: 4, maxLength: 4000, required: true,
    placeholder: "What is wrong or missing?" });
  const suggestion = h("textarea", { id: "comment-suggestion", name: "suggestion", rows: 3, maxLength: 4000,
    placeholder: "What should the authors do? (optional)" });
  const error = h("div", { class: "alert", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "comment-save" }, "Add comment");
  const cancel = h("button", { type: "button", class: "btn", onclick: () => shell.close() }, "Cancel");
  const form = h("form", { class: "comment-form", id: "comment-form", novalidate: true },
    quoteBox, where,
    h("div", { class: "comment-row" },
      h("label", { class: "field", for: "comment-type" }, h("span", null, "Type"), type),
      h("fieldset", { class: "field risk-field" }, h("legend", { class: "field-label" }, "Risk"), h("div", { class: "risk-radios" }, risks)),
      h("label", { class: "field", for: "comment-category" }, h("span", null, "Category"), category, datalist)),
    h("label", { class: "field", for: "comment-description" }, h("span", null, "Comment"), description),
    h("label", { class: "field", for: "comment-suggestion" }, h("span", null, "Suggestion"), suggestion),
    error,
    h("div", { class: "dialog-actions" }, cancel, save));
  shell.body.appendChild(form);

  let target = null; // {sectionId, quote} for a new one, or {item}

  function setRisk(v) {
    for (const l of risks) l.querySelector("input").checked = l.querySelector("input").value === v;
  }

  function open(t) {
    target = t;
    const item = t.item || null;
    const quote = item ? item.quote : t.quote;
    const sectionId = item ? item.section_id : t.sectionId;
    const section = ctx.store.state.sections.find((s) => s.id === sectionId);
    title.textContent = item ? "Edit comment" : "Add comment";
    save.textContent = item ? "Save changes" : "Add comment";
    quoteBox.hidden = !quote;
    quoteBox.textContent = quote || "";
    where.textContent = section ? `In section ${section.index + 1}, “${section.title}”` : "";
    type.value = item ? item.type : "important";
    setRisk(item ? item.risk : "medium");
    category.value = item ? item.category : "";
    description.value = item ? item.description : "";
    suggestion.value = item ? item.suggestion || "" : "";
    error.hidden = true;
    shell.open();
    description.focus();
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!description.value.trim()) {
      setChildren(error, icon("alert"), h("span", null, "Write the comment first."));
      error.hidden = false;
      description.focus();
      return;
    }
    const risk = (risks.map((l) => l.querySelector("input")).find((i) => i.checked) || {}).value || "medium";
    const fields = { type: type.value, risk, category: category.value.trim() || "Reviewer note",
      description: description.value.trim(), suggestion: suggestion.value.trim() };
    save.disabled = true;
    try {
      if (target.item) await ctx.actions.saveItem(target.item, fields);
      else await ctx.actions.createItem({ section_id: target.sectionId, quote: target.quote, ...fields });
      shell.close();
    } catch (err) {
      setChildren(error, icon("alert"), h("span", null, err.message || "Could not save the comment."));
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  });

  return { open };
}
