// herald console: the template editor. Every edit re-renders the preview (after a
// short pause in typing); Save checks and writes the set through the JSON API.
"use strict";

(function () {
  const DEBOUNCE_MS = 300;
  const form = document.getElementById("editor");
  if (!form) return;
  const name = form.dataset.name;
  const parts = ["subject", "html", "text"];
  const field = (part) => document.getElementById(`part-${part}`);
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let sequence = 0;
  // Edits not saved yet: switching set or leaving the page asks first.
  let dirty = false;

  // The parts to render: those with a file, and those someone typed into.
  function draft() {
    const out = {};
    for (const part of parts) {
      const area = field(part);
      if (area.dataset.present === "true" || area.value !== "") out[part] = area.value;
    }
    return out;
  }

  function eventChoice() {
    const [kind, rest] = $("event").value.split(/:(.*)/s);
    if (kind === "sample") return { sample: rest };
    const slash = rest.indexOf("/");
    return { event: { source: rest.slice(0, slash), id: rest.slice(slash + 1) } };
  }

  function showErrors(errors) {
    for (const list of document.querySelectorAll("[data-errors]")) list.replaceChildren();
    for (const area of parts.map(field)) area.classList.remove("has-error");
    for (const error of errors) {
      const where = error.part && parts.includes(error.part) ? error.part : "other";
      const list = document.querySelector(`[data-errors="${where}"]`);
      const item = document.createElement("li");
      if (error.line && where !== "other") {
        const jump = document.createElement("button");
        jump.type = "button";
        jump.className = "line";
        jump.textContent = `line ${error.line}${error.column ? `, column ${error.column}` : ""}`;
        jump.addEventListener("click", () => selectLine(field(where), error.line));
        item.append(jump, " ");
        field(where).classList.add("has-error");
      }
      item.append(error.message);
      list.append(item);
    }
  }

  // Puts the caret on `line` of `area` and selects it.
  function selectLine(area, line) {
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
    const end = start + (lines[line - 1] || "").length;
    area.focus();
    area.setSelectionRange(start, end);
  }

  async function render() {
    const mine = ++sequence;
    $("preview-state").textContent = "rendering…";
    const r = await window.heraldSend("POST", `/api/templates/${encodeURIComponent(name)}/render`, { parts: draft(), ...eventChoice() });
    if (mine !== sequence) return; // a newer edit is on its way
    if (!r.ok) {
      $("preview-state").textContent = r.data.error || `failed (${r.status})`;
      return;
    }
    const p = r.data;
    // Only the parts the set has (or is being given) are shown: a text-only set is
    // an SMS, not an email with an empty subject.
    const sent = draft();
    $("preview-subject-row").hidden = !("subject" in sent);
    $("preview-html").hidden = !("html" in sent);
    // A part that does not render keeps its last good preview, dimmed.
    const failed = new Set(p.errors.map((e) => e.part));
    const show = (id, part, value, put) => {
      const element = $(id);
      element.classList.toggle("stale", failed.has(part));
      if (!failed.has(part)) put(element, value ?? "");
    };
    show("preview-subject", "subject", p.subject, (e, v) => { e.textContent = v; });
    show("preview-html", "html", p.html, (e, v) => { e.srcdoc = v; });
    show("preview-text", "text", p.text, (e, v) => { e.textContent = v; });
    if (!failed.has("text")) {
      $("preview-sms").textContent = p.sms ? `as an SMS: ${p.sms.segments} segment${p.sms.segments === 1 ? "" : "s"} (${p.sms.encoding})` : "";
    }
    $("preview-event").textContent = `${p.event}; ${p.params}`;
    showErrors(p.errors);
    $("preview-state").textContent = p.errors.length ? `${p.errors.length} problem${p.errors.length === 1 ? "" : "s"}` : "up to date";
    form.dataset.rendered = String(mine);
  }

  function schedule() {
    clearTimeout(timer);
    $("preview-state").textContent = "editing…";
    timer = setTimeout(render, DEBOUNCE_MS);
  }

  for (const part of parts) {
    field(part).addEventListener("input", () => {
      dirty = true;
      schedule();
    });
  }
  $("event").addEventListener("change", render);
  $("template").addEventListener("change", (e) => {
    if (dirty && !confirm(`Your edits to ${name} are not saved. Discard them and open ${e.target.value}?`)) {
      e.target.value = name;
      return;
    }
    dirty = false;
    location.href = `/templates?name=${encodeURIComponent(e.target.value)}`;
  });
  window.addEventListener("beforeunload", (e) => {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = "";
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("save-result");
    const problems = $("save-problems");
    problems.replaceChildren();
    result.classList.remove("failed");
    result.textContent = "checking…";
    const r = await window.heraldSend("PUT", `/api/templates/${encodeURIComponent(name)}`, { parts: draft() });
    if (r.ok) {
      const written = r.data.result.written;
      result.textContent = written.length
        ? `Saved ${written.join(", ")}; the previous version is kept as .bak. herald reloads it now.`
        : "Nothing changed.";
      for (const part of parts) if (field(part).value !== "") field(part).dataset.present = "true";
      dirty = false;
      return;
    }
    result.classList.add("failed");
    if (r.data.problems) {
      result.textContent = "Not saved: the rendering check found problems.";
      for (const problem of r.data.problems) {
        const item = document.createElement("li");
        item.textContent = problem.message;
        problems.append(item);
      }
    } else {
      result.textContent = `Not saved: ${r.data.error || r.status}`;
    }
  });

  render();
})();
