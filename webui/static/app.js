// Rampart's own script; the CSP allows nothing inline, so all behaviour
// lives here. rampart.api calls the JSON API with the page's CSRF token.
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
