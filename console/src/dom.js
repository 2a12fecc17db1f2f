// A tiny DOM builder: h("a", {href}, "text", child, [more]) -> Element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  const add = (c) => {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  };
  children.forEach(add);
  return el;
}

// A table that scrolls sideways on a narrow screen rather than the page;
// columns whose index is in `wideOnly` are left out below 600 px.
export function table(headers, rows, caption, wideOnly = []) {
  const cls = (i) => (wideOnly.includes(i) ? "wide-only" : null);
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((x, i) => h("th", { scope: "col", class: cls(i) }, x)))),
      h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: cls(i) }, c))))
        : h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, "None")))));
}

export function badge(text) {
  const t = String(text || "").toLowerCase();
  const kind = /^(running|healthy|active|completed|primary|available|in_service|ok)$/.test(t) ? "good"
    : /^(stopped|unhealthy|failed|inactive|draining|deregistering|deprovisioning)$/.test(t) ? "bad"
      : /^(pending|provisioning|in_progress|initial|activating|unused|unknown)$/.test(t) ? "warn" : "plain";
  return h("span", { class: `badge ${kind}` }, text || "-");
}

export function when(value) {
  if (value === undefined || value === null || value === "") return "-";
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return isNaN(d) ? String(value) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export const lastPart = (arn) => String(arn || "").split("/").pop();

// A modal confirmation (<dialog>: focus is trapped, Escape cancels).
export function confirmDialog(title, text, action) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-labelledby": "confirm-title" },
      h("form", { method: "dialog" },
        h("h2", { id: "confirm-title" }, title),
        h("p", {}, text),
        h("div", { class: "buttons" },
          // Cancel has the focus: Enter alone never destroys anything.
          h("button", { value: "cancel", type: "submit", autofocus: true }, "Cancel"),
          h("button", { value: "ok", type: "submit", class: "danger" }, action))));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
