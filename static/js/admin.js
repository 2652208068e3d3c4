// The operators' queue dashboard: polls /admin/api/overview with the admin token from the page URL.
const token = new URLSearchParams(location.search).get("token") || "";
const headers = { Authorization: `Bearer ${token}` };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

async function act(jobId, action) {
  const r = await fetch(`/admin/api/jobs/${encodeURIComponent(jobId)}/${action}`, { method: "POST", headers });
  const body = await r.json();
  if (!r.ok) alert(body.error.message);
  await refresh();
}

function row(cells) {
  return el("tr", {}, ...cells.map((c) => el("td", {}, c)));
}

async function refresh() {
  const r = await fetch("/admin/api/overview", { headers });
  if (!r.ok) {
    document.getElementById("queues").replaceChildren(el("p", {}, (await r.json()).error.message));
    return;
  }
  const data = await r.json();
  const out = [];
  for (const [name, q] of Object.entries(data.queues)) {
    const jobs = el("table", {}, el("tr", {}, ...["job", "status", "attempts", ""].map((h) => el("th", {}, h))));
    for (const j of q.jobs) {
      jobs.append(row([j.job_id, j.status, j.attempts,
        el("button", { type: "button", onclick: () => act(j.job_id, "abort") }, "Abort")]));
    }
    out.push(el("article", {},
      el("h2", {}, name),
      el("p", {}, `${q.queued} queued · ${q.active} active · ${q.scheduled} scheduled · ${q.workers.length} workers`),
      el("ul", {}, ...q.workers.map((w) => el("li", {}, w.id))),
      jobs));
  }
  document.getElementById("queues").replaceChildren(...out);
  const recent = document.getElementById("recent");
  recent.replaceChildren(el("tr", {}, ...["job", "kind", "status", "error", ""].map((h) => el("th", {}, h))));
  for (const j of data.recent) {
    recent.append(row([j.job_id, j.kind, j.status, j.error || "",
      j.kind === "analyze" ? el("button", { type: "button", onclick: () => act(j.job_id, "retry") }, "Retry") : ""]));
  }
  document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

refresh();
setInterval(refresh, 3000);
