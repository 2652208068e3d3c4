// The upload page: a document by drag and drop or picker, optional guidelines and title,
// upload progress, the server's error messages, then on to the review; recent reviews.
// "Analyze on upload" (on by default, remembered in localStorage): this page asks for the
// analysis of every section right after the upload, before it opens the review, so the
// analysis starts exactly once (a reload or a second tab of the review starts nothing).

import { Api, NOTICE_KEY, uploadForm } from "./api.js";
import { h, icon, iconButton, clear, setChildren } from "./dom.js";
import { listRecent, rememberReview, forgetReview } from "./recent.js";
import { themeToggle } from "./theme.js";

const $ = (id) => document.getElementById(id);

const ANALYZE_KEY = "redline.analyzeOnUpload";

let documentFile = null;
let guidelinesFile = null;

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function showError(message) {
  const box = $("upload-error");
  setChildren(box, icon("alert"), h("span", null, message));
  box.hidden = false;
}

function hideError() {
  $("upload-error").hidden = true;
}

function setDocument(file) {
  hideError(); // the server judges the file and says clearly what is wrong with it
  documentFile = file;
  const zone = $("dropzone");
  zone.classList.toggle("has-file", !!file);
  if (file) {
    $("dropzone-title").textContent = file.name;
    setChildren($("dropzone-hint"), `${formatSize(file.size)} — `,
      h("label", { for: "document", class: "linklike" }, "choose another file"));
  } else {
    $("dropzone-title").textContent = "Drop the write-up here";
    setChildren($("dropzone-hint"), ".docx, .pdf, .md or .txt — or ",
      h("label", { for: "document", class: "linklike" }, "choose a file"));
  }
  $("upload-submit").disabled = !file;
}

function setGuidelines(file) {
  hideError();
  guidelinesFile = file;
  $("guidelines-name").textContent = file ? `${file.name} (${formatSize(file.size)})`
    : "Your organisation's review checklist or standard";
  $("guidelines-clear").hidden = !file;
  if (!file) $("guidelines").value = "";
}

function setBusy(busy) {
  for (const el of document.querySelectorAll("#upload-form input, #upload-form button")) el.disabled = busy;
  if (!busy) $("upload-submit").disabled = !documentFile;
  $("dropzone").classList.toggle("is-busy", busy);
}

function showProgress(fraction, text) {
  $("upload-status").hidden = false;
  const bar = $("upload-progress");
  const fill = $("upload-progress-fill");
  if (fraction === null) {
    bar.removeAttribute("aria-valuenow");
    fill.style.width = "100%";
  } else {
    const p = Math.round(fraction * 100);
    bar.setAttribute("aria-valuenow", String(p));
    fill.style.width = `${p}%`;
  }
  $("upload-status-text").textContent = text;
}

async function submit(e) {
  e.preventDefault();
  if (!documentFile) {
    showError("Choose the document to review first.");
    return;
  }
  hideError();
  const data = new FormData();
  data.append("document", documentFile, documentFile.name);
  if (guidelinesFile) data.append("guidelines", guidelinesFile, guidelinesFile.name);
  const title = $("title").value.trim();
  if (title) data.append("title", title);
  setBusy(true);
  showProgress(0, "Uploading…");
  try {
    const out = await uploadForm("/api/reviews", data, {
      onProgress: (f) => showProgress(f, f === null ? "Uploading…" : `Uploading… ${Math.round(f * 100)}%`),
      onUploaded: () => showProgress(1, "Reading the document…"),
    });
    rememberReview({ id: out.review_id, title: out.title, token: out.token });
    if ($("analyze-on-upload").checked && out.sections.length) {
      showProgress(1, `Found ${out.sections.length} sections. Starting the analysis…`);
      try {
        await new Api(out.review_id, out.token).analyze();
      } catch (err) {
        // The review exists: open it anyway; it says why nothing is running ("Analyze all" is there).
        try {
          sessionStorage.setItem(NOTICE_KEY(out.review_id),
            `The analysis did not start: ${err.message || "the server refused it"} Use “Analyze all” to start it.`);
        } catch { /* storage off */ }
      }
    }
    showProgress(1, `Found ${out.sections.length} sections. Opening the review…`);
    location.assign(out.url);
  } catch (err) {
    $("upload-status").hidden = true;
    showError(err.message || "The upload failed.");
    setBusy(false);
  }
}

function renderRecent() {
  const list = listRecent();
  const ul = clear($("recent-list"));
  $("recent").hidden = list.length === 0;
  for (const r of list) {
    const when = r.at ? new Date(r.at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
    ul.appendChild(h("li", null,
      h("a", { href: `/r/${encodeURIComponent(r.id)}#token=${encodeURIComponent(r.token)}` }, r.title || "Untitled review"),
      h("span", { class: "meta" }, when),
      iconButton("x", `Forget “${r.title || "Untitled review"}”`, { class: "sm", onclick: () => { forgetReview(r.id); renderRecent(); } })));
  }
}

function init() {
  themeToggle($("theme-toggle"));
  $("dropzone-icon").appendChild(icon("upload"));
  $("guidelines-clear").appendChild(icon("x"));
  const zone = $("dropzone");
  const input = $("document");
  input.addEventListener("change", () => setDocument(input.files[0] || null));
  $("guidelines").addEventListener("change", (e) => setGuidelines(e.target.files[0] || null));
  $("guidelines-clear").addEventListener("click", () => setGuidelines(null));
  zone.addEventListener("click", (e) => {
    if (e.target.closest("label") || e.target === input) return; // these open the picker themselves
    input.click();
  });
  // Keyboard users reach the (visually hidden) file input itself; the zone shows its focus.
  input.setAttribute("aria-label", "Document to review (.docx, .pdf, .md or .txt)");
  for (const ev of ["dragenter", "dragover"]) {
    zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.add("is-over"); });
  }
  for (const ev of ["dragleave", "dragend"]) zone.addEventListener(ev, () => zone.classList.remove("is-over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("is-over");
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) setDocument(file);
  });
  // A file dropped outside the zone must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  $("upload-form").addEventListener("submit", submit);
  const analyze = $("analyze-on-upload");
  try { analyze.checked = localStorage.getItem(ANALYZE_KEY) !== "0"; } catch { /* storage off: on */ }
  analyze.addEventListener("change", () => {
    try { localStorage.setItem(ANALYZE_KEY, analyze.checked ? "1" : "0"); } catch { /* ignore */ }
  });
  // Back from the review (page cache): the form is usable again.
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted) return;
    setBusy(false);
    $("upload-status").hidden = true;
    renderRecent();
  });
  renderRecent();
}

init();
