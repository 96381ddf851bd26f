// herald console: live refresh of the listings, and the buttons that change things.
// No framework: the server renders every page; this only swaps fresh parts in.
"use strict";

(function () {
  const REFRESH_MS = 2000;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  // Every change goes through here: JSON, the session cookie, and the CSRF token.
  async function send(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body ?? {}),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* not JSON */ }
    return { ok: response.ok, status: response.status, data };
  }
  window.heraldSend = send;

  function say(near, text, failed) {
    const box = near.closest(".actions")?.querySelector(".result");
    if (!box) return;
    box.textContent = text;
    box.classList.toggle("failed", Boolean(failed));
  }

  // Parts marked data-live are fetched again and swapped in when they changed.
  // Rows that were not there before are marked so the eye finds them.
  const live = Array.from(document.querySelectorAll("[data-live]"));
  async function refresh() {
    if (!live.length || document.hidden) return;
    let fresh;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(String(response.status));
      fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (_) {
      setStatus("Live: cannot reach herald, retrying…");
      return;
    }
    for (const part of live) {
      const next = fresh.querySelector(`[data-live="${part.dataset.live}"]`);
      if (!next || next.innerHTML === part.innerHTML) continue;
      const seen = new Set(Array.from(part.querySelectorAll("[data-id],[data-job]")).map(key));
      const checked = new Set(Array.from(part.querySelectorAll("input[name=job]:checked")).map((box) => box.value));
      part.innerHTML = next.innerHTML;
      for (const row of part.querySelectorAll("[data-id],[data-job]")) {
        if (seen.size && !seen.has(key(row))) row.classList.add("new");
      }
      for (const box of part.querySelectorAll("input[name=job]")) box.checked = checked.has(box.value);
    }
    // UTC and 24-hour, as every time in the tables is.
    setStatus(`Live: updated ${new Date().toISOString().slice(11, 19)} UTC`);
  }
  function key(row) { return row.dataset.id || row.dataset.job; }
  function setStatus(text) {
    const status = document.querySelector("[data-live-status]");
    if (status) status.textContent = text;
  }
  if (live.length) {
    setInterval(refresh, REFRESH_MS);
    document.addEventListener("visibilitychange", refresh);
  }

  // A yes/no question in the page's <dialog>; resolves true on Confirm.
  function confirmWith(text) {
    const dialog = document.getElementById("confirm");
    if (!dialog || !dialog.showModal) return Promise.resolve(window.confirm(text));
    dialog.querySelector("#confirm-text").textContent = text;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    });
  }

  function selectedJobs() {
    return Array.from(document.querySelectorAll("input[name=job]:checked")).map((box) => Number(box.value));
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-select-all]")) {
      for (const box of document.querySelectorAll("input[name=job]")) box.checked = event.target.checked;
    }
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      if (action === "redeliver") {
        if (!(await confirmWith("Deliver this event again? Every job it has is queued now, delivered ones too."))) { say(button, "Nothing changed."); return; }
        const r = await send("POST", button.dataset.url);
        say(button, r.ok ? `Queued again: ${r.data.requeued ?? 0} job(s) re-queued, ${r.data.added ?? 0} added.` : r.data.error || `Failed (${r.status})`, !r.ok);
      } else if (action === "replay-event") {
        if (!(await confirmWith("Replay this event's dead letters? They are queued for delivery again now."))) { say(button, "Nothing changed."); return; }
        const r = await send("POST", "/dead-letters/replay", { event_id: button.dataset.event });
        say(button, r.ok ? `Replayed ${r.data.replayed} dead letter(s).` : r.data.error || `Failed (${r.status})`, !r.ok);
      } else if (action === "replay-selected" || action === "purge-selected") {
        const jobs = selectedJobs();
        if (!jobs.length) { say(button, "Select dead letters first.", true); return; }
        const verb = action === "replay-selected" ? "replay" : "purge";
        const question = verb === "replay"
          ? `Replay ${jobs.length} dead letter(s)? They are queued for delivery again now.`
          : `Purge ${jobs.length} dead letter(s)? They are deleted for good.`;
        if (!(await confirmWith(question))) { say(button, "Nothing changed."); return; }
        const r = await send("POST", `/dead-letters/${verb}`, { job_ids: jobs });
        const done = verb === "replay" ? `Replayed ${r.data.replayed} dead letter(s).` : `Purged ${r.data.purged} dead letter(s).`;
        say(button, r.ok ? done : r.data.error || `Failed (${r.status})`, !r.ok);
      }
      await refresh();
    } finally {
      button.disabled = false;
    }
  });
})();
