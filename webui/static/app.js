// Rampart's own script; the CSP allows nothing inline, so all behaviour
// lives here. Pages work without it, except the live log.
"use strict";
window.rampart = {
  csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  },
  async api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { "X-CSRF-Token": this.csrf() } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    const data = r.status === 204 ? null : await r.json();
    if (!r.ok) throw new Error((data && data.error) || r.statusText);
    return data;
  },
};

// Countdowns to a pending change's automatic revert. The server's number
// of seconds is the truth; the browser's clock only counts it down.
function startCountdowns() {
  const els = document.querySelectorAll(".countdown[data-seconds]");
  if (els.length === 0) return;
  const end = Date.now() + 1000 * Number(els[0].dataset.seconds);
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    for (const el of els) el.textContent = left > 0 ? left + " s" : "now: reverting";
    if (left > 0) setTimeout(tick, 1000);
    else setTimeout(() => location.reload(), 3000);
  };
  tick();
}

// Forms with data-confirm ask before they post (delete, revert).
function confirmForms() {
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (ev) => {
      if (!window.confirm(f.dataset.confirm)) ev.preventDefault();
    });
  }
}

// The live log polls the API for lines after the last one it has.
function liveLog() {
  const list = document.getElementById("log");
  if (!list) return;
  const status = document.getElementById("log-status");
  const pause = document.getElementById("log-pause");
  const maxLines = 1000;
  let after = 0, paused = false, timer = 0;
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    if (!paused) poll();
  });
  async function poll() {
    clearTimeout(timer);
    if (paused) return;
    try {
      const r = await window.rampart.api("GET", list.dataset.source + "?after=" + after);
      for (const l of r.lines) {
        if (after !== 0 && l.seq !== after + 1) add("gap", "… " + (l.seq - after - 1) + " line(s) dropped …", "");
        add(l.kind, l.text, l.time);
        after = l.seq;
      }
      while (list.children.length > maxLines) list.firstElementChild.remove();
      status.textContent = "Live. Updated " + new Date().toLocaleTimeString() + ".";
    } catch (e) {
      status.textContent = "Lost contact: " + e.message + ". Retrying…";
    }
    timer = setTimeout(poll, 2000);
  }
  function add(kind, text, time) {
    const li = document.createElement("li");
    li.className = "log-" + kind;
    if (time) {
      const t = document.createElement("time");
      t.textContent = new Date(time).toLocaleTimeString();
      li.append(t, " ");
    }
    li.append(text);
    const atBottom = window.innerHeight + window.scrollY >= document.body.offsetHeight - 40;
    list.append(li);
    if (atBottom) li.scrollIntoView({ block: "end" });
  }
  poll();
}

// The dashboard's live part (#live) is fetched anew as an HTML fragment
// the server renders with the page's own template, every data-every
// seconds, and only while the tab is visible: a hidden tab costs the box
// nothing. A lost session stops it; the page says to reload.
function liveDashboard() {
  const box = document.getElementById("live");
  if (!box || !box.dataset.source) return;
  const status = document.getElementById("live-status");
  const every = 1000 * (Number(box.dataset.every) || 5);
  let timer = 0, busy = false, stopped = false;
  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && !document.hidden) timer = setTimeout(refresh, every);
  };
  async function refresh() {
    if (busy || stopped || document.hidden) return;
    busy = true;
    try {
      // manual: a redirect (to /login) is a lost session, not a fragment.
      const r = await fetch(box.dataset.source, { credentials: "same-origin", redirect: "manual", cache: "no-store" });
      if (r.type === "opaqueredirect" || r.status === 401) {
        stopped = true;
        status.textContent = "Logged out. Reload the page to log in again.";
        return;
      }
      if (!r.ok) throw new Error(r.statusText || "HTTP " + r.status);
      // The server's own template output, escaped there as on the page.
      box.innerHTML = await r.text();
      status.textContent = "Live: updated " + new Date().toLocaleTimeString() + ".";
    } catch (e) {
      status.textContent = "Lost contact: " + e.message + ". Retrying…";
    } finally {
      busy = false;
      schedule();
    }
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      status.textContent = "Paused while the tab is hidden.";
    } else {
      refresh();
    }
  });
  status.textContent = "Live: updates every " + every / 1000 + " s.";
  schedule();
}

document.addEventListener("DOMContentLoaded", () => {
  startCountdowns();
  confirmForms();
  liveLog();
  liveDashboard();
});
