// HTTP helpers: the review token, JSON fetches with Bearer auth, uploads with progress,
// authenticated downloads. Errors carry the server's {"error": {"code", "message"}}.

const TOKEN_KEY = (rid) => `redline.token.${rid}`;
/** A message from the upload page for the review page, shown once (sessionStorage, keyed by review id). */
export const NOTICE_KEY = (rid) => `redline.notice.${rid}`;

/** The upload page's message for review `rid`, if any; removed once read. */
export function takeNotice(rid) {
  try {
    const text = sessionStorage.getItem(NOTICE_KEY(rid));
    if (text) sessionStorage.removeItem(NOTICE_KEY(rid));
    return text || null;
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(message, { status = 0, code = "network_error" } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The review id of a /r/{id} page. */
export function reviewIdFromPath(pathname = location.pathname) {
  const m = /^\/r\/([^/?#]+)/.exec(pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

/** The token in a URL fragment like "#token=...". */
export function tokenFromHash(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  return params.get("token") || null;
}

/**
 * The token of review `rid`: from the URL fragment (then kept in sessionStorage and
 * removed from the address bar), else from sessionStorage, else from the recent list.
 */
export function takeToken(rid, { recentToken = null } = {}) {
  const fromHash = tokenFromHash();
  if (fromHash) {
    try { sessionStorage.setItem(TOKEN_KEY(rid), fromHash); } catch { /* private mode */ }
    // The token stays out of the visible address (screenshots, shoulder surfing); reloads use sessionStorage.
    history.replaceState(history.state, "", location.pathname + location.search);
    return fromHash;
  }
  try {
    const kept = sessionStorage.getItem(TOKEN_KEY(rid));
    if (kept) return kept;
  } catch { /* ignore */ }
  return recentToken;
}

/** A link that opens the review in another tab or for a colleague (token in the fragment only). */
export function shareUrl(rid, token) {
  return `${location.origin}/r/${encodeURIComponent(rid)}#token=${encodeURIComponent(token)}`;
}

async function errorFrom(resp) {
  let code = `http_${resp.status}`;
  let message = `The server answered ${resp.status} ${resp.statusText || ""}`.trim() + ".";
  try {
    const body = await resp.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not JSON */ }
  if (resp.status === 401) message = "This link's token is not valid for this review.";
  return new ApiError(message, { status: resp.status, code });
}

export class Api {
  constructor(reviewId, token) {
    this.reviewId = reviewId;
    this.token = token;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async request(method, path, body) {
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers: this.headers(body !== undefined ? { "Content-Type": "application/json" } : {}),
        body: body !== undefined ? JSON.stringify(body) : undefined,
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError("The server could not be reached. Check the connection and try again.");
    }
    if (!resp.ok) throw await errorFrom(resp);
    if (resp.status === 204) return {};
    return resp.json();
  }

  base() { return `/api/reviews/${encodeURIComponent(this.reviewId)}`; }
  snapshot() { return this.request("GET", this.base()); }
  analyze(sections) { return this.request("POST", `${this.base()}/analyze`, sections ? { sections } : {}); }
  chat(message, sectionId) { return this.request("POST", `${this.base()}/chat`, { message, section_id: sectionId || undefined }); }
  addItem(item) { return this.request("POST", `${this.base()}/items`, item); }
  updateItem(itemId, fields) { return this.request("PATCH", `${this.base()}/items/${encodeURIComponent(itemId)}`, fields); }
  deleteItem(itemId) { return this.request("DELETE", `${this.base()}/items/${encodeURIComponent(itemId)}`); }
  decide(itemId, decision, by, extra = {}) {
    return this.request("POST", `${this.base()}/items/${encodeURIComponent(itemId)}/decision`, { decision, by, ...extra });
  }
  audit() { return this.request("GET", `${this.base()}/audit`); }
  cancelJob(jobId) { return this.request("POST", `/api/jobs/${encodeURIComponent(jobId)}/cancel`); }

  /** The next version of the write-up (a round): multipart `document` and `by`, with upload
   * progress. Resolves to the server's summary ({version, resolved, open, outdated, changes, sections}). */
  addVersion(file, by, { onProgress } = {}) {
    const form = new FormData();
    form.append("document", file, file.name);
    if (by) form.append("by", by);
    return uploadForm(`${this.base()}/versions`, form, { onProgress, headers: this.headers() });
  }

  /** The audit trail as CSV, through fetch (the token in a header). */
  async downloadAuditCSV() {
    let resp;
    try {
      resp = await fetch(`${this.base()}/audit?format=csv`, { headers: this.headers(), cache: "no-store" });
    } catch {
      throw new ApiError("The server could not be reached. Check the connection and try again.");
    }
    if (!resp.ok) throw await errorFrom(resp);
    return { blob: await resp.blob(), filename: `review-${this.reviewId}-audit.csv` };
  }

  /** Download the reviewed .docx through fetch (the token goes in a header, never in a URL). */
  async downloadDocx(include = "accepted", changes = "both", by = null) {
    let resp;
    const q = new URLSearchParams({ include, changes });
    if (by) q.set("by", by);
    try {
      resp = await fetch(`${this.base()}/export.docx?${q}`, {
        headers: this.headers(), cache: "no-store",
      });
    } catch {
      throw new ApiError("The server could not be reached. Check the connection and try again.");
    }
    if (!resp.ok) throw await errorFrom(resp);
    const blob = await resp.blob();
    const cd = resp.headers.get("Content-Disposition") || "";
    const m = /filename="?([^";]+)"?/i.exec(cd);
    return { blob, filename: m ? m[1] : "review-reviewed.docx" };
  }
}

export async function queues() {
  const resp = await fetch("/api/queues", { cache: "no-store" });
  if (!resp.ok) throw await errorFrom(resp);
  return resp.json();
}

/** Save a Blob through a temporary object-URL link. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/**
 * POST a multipart form with upload progress (fetch has no upload progress).
 * onProgress(fraction | null) — null when the size is unknown.
 */
export function uploadForm(url, formData, { onProgress, onUploaded, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.lengthComputable ? e.loaded / e.total : null);
    xhr.upload.onload = () => onUploaded && onUploaded();
    xhr.onerror = () => reject(new ApiError("The upload failed: the server could not be reached."));
    xhr.ontimeout = () => reject(new ApiError("The upload timed out. Try again."));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        resolve(body);
      } else if (xhr.status === 401) {
        reject(new ApiError("This link's token is not valid for this review.", { status: 401, code: "unauthorized" }));
      } else if (body && body.error) {
        reject(new ApiError(body.error.message || "The upload was refused.", { status: xhr.status, code: body.error.code }));
      } else if (xhr.status === 413) {
        reject(new ApiError("The file is larger than the server accepts.", { status: 413, code: "too_large" }));
      } else {
        reject(new ApiError(`The upload failed (HTTP ${xhr.status}).`, { status: xhr.status, code: `http_${xhr.status}` }));
      }
    };
    xhr.send(formData);
  });
}
