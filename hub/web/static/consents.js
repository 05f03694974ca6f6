// ZCC call consent in the console: requests and their live status, and a form to ask again.
import { api } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { lang, say, t } from "./i18n.js";

export class Consents {
  constructor(ctx) {
    this.ctx = ctx;
    this.items = new Map();
    $("#consent-status").addEventListener("change", () => this.load().catch((err) => console.error(err)));
    $("#consent-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.request(new FormData(event.target)).catch((err) => console.error(err));
    });
    for (const format of ["xlsx", "csv"]) { // the list's filter (its status), every request of it
      $(`#consents-export-${format}`).addEventListener("click", () =>
        api.download("/api/consents/export", { status: $("#consent-status").value, format, lang: lang() })
          .catch((err) => console.error(err)));
    }
  }

  async load() {
    const { consents } = await api.get("/api/consents", { status: $("#consent-status").value, limit: 200 });
    this.items = new Map(consents.map((c) => [c.id, c]));
    this.render();
  }

  renderOaChoice(oaIds) {
    const select = $("#consent-form select[name=oa_id]");
    const chosen = select.value;
    replace(select, oaIds.map(([id, name]) => option(id, name, id === chosen)));
  }

  updated(consent) {
    this.items.set(consent.id, consent);
    this.render();
  }

  async request(form) {
    const error = $("#consent-error");
    error.hidden = true;
    try {
      this.updated(await api.post("/api/consents", {
        oa_id: form.get("oa_id"), phone: form.get("phone").trim(), reason_code: Number(form.get("reason_code")),
        call_type: form.get("call_type"),
      }));
    } catch (err) {
      say(error, () => this.ctx.errorText(err));
      error.hidden = false;
    }
  }

  render() {
    const status = $("#consent-status").value;
    const rows = [...this.items.values()].filter((c) => !status || c.status === status)
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    replace($("#consent-list tbody"), rows.length ? rows.map((c) => h("tr", { dataset: { consentId: c.id, status: c.status } },
      h("td", {}, fmt.when(c.created_at)),
      h("td", {}, c.phone),
      h("td", {}, c.oa_id),
      h("td", {}, t(`reason.${c.reason_code}`)),
      h("td", {}, t(`callType.${c.call_type}`)),
      h("td", {}, h("span", { class: `badge consent ${c.status}` }, t(`consent.${c.status}`)),
        c.failure ? h("div", { class: "muted" }, lang() === "vi" ? c.failure.reason_vi : c.failure.reason) : null),
      h("td", {}, c.expires_at ? fmt.when(c.expires_at) : "–"),
      h("td", {}, c.can_resend_at ? fmt.when(c.can_resend_at) : "–")))
      : h("tr", {}, h("td", { colspan: 8, class: "muted" }, t("consents.none"))));
  }
}
