// ZNS journeys, in the ZNS tab (owners and managers): the journeys created (OA, phone, created, end, charge
// time, status, charged) with their filters, "New journey" (OA, phone, token type), and one journey's detail
// with the messages sent within it and "Send a message in this journey" (the shared ZNS send dialog, its
// phone fixed, posting to the journey). Live by journey.updated (a journey's row and detail in place) and
// zns.updated (a message of the open journey); read over REST when first shown and when the filters change.
import { api, ApiError } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, lang, onLangChange, say, t } from "./i18n.js";
import { ZnsSendDialog } from "./zns_send.js";

addStrings({
  vi: {
    "journey.title": "Hành trình ZNS (Journey)", "journey.new": "Tạo hành trình", "journey.apply": "Xem",
    "journey.oa": "OA", "journey.anyOa": "Mọi OA", "journey.phone": "Số điện thoại người nhận", "journey.from": "Từ ngày",
    "journey.to": "Đến ngày", "journey.status": "Trạng thái", "journey.anyStatus": "Mọi trạng thái",
    "journey.charged": "Tính phí", "journey.anyCharge": "Tính phí: tất cả", "journey.yes": "Có", "journey.no": "Không",
    "journey.created": "Ngày tạo", "journey.end": "Ngày kết thúc", "journey.chargedAt": "Thời gian tính phí",
    "journey.messages": "Số tin", "journey.none": "Chưa có hành trình nào.", "journey.type": "Loại token",
    "journey.st.active": "Đang hiệu lực", "journey.st.charged": "Đã tính phí", "journey.st.expired": "Đã kết thúc",
    "journey.token": "Token", "journey.zaloId": "Mã hành trình (Zalo)", "journey.detail": "Chi tiết hành trình",
    "journey.send": "Gửi tin trong hành trình này", "journey.sentAt": "Gửi lúc", "journey.template": "Mẫu tin",
    "journey.msgStatus": "Trạng thái tin", "journey.noMessages": "Chưa gửi tin nào trong hành trình này.",
    "journey.create": "Tạo", "journey.cancel": "Huỷ", "journey.noOa": "Công ty chưa liên kết OA nào.",
    "journey.pick": "Chọn một hành trình để xem chi tiết.",
    "journey.type.token_logistics_7": "Giao vận · 7 ngày", "journey.type.token_logistics_30": "Giao vận · 30 ngày",
    "journey.type.token_coach_bus_7": "Xe khách · 7 ngày", "journey.type.token_coach_bus_30": "Xe khách · 30 ngày",
    "error.journey_expired": "Hành trình này đã kết thúc; hãy tạo hành trình mới để gửi thêm tin.",
    "error.invalid_token_type": "Loại token không hợp lệ.",
    "error.invalid_phone": "Số điện thoại không hợp lệ; hãy nhập dạng 0912345678.",
  },
  en: {
    "journey.title": "ZNS journeys", "journey.new": "New journey", "journey.apply": "Show",
    "journey.oa": "OA", "journey.anyOa": "Every OA", "journey.phone": "Recipient's phone", "journey.from": "From",
    "journey.to": "To", "journey.status": "Status", "journey.anyStatus": "Any status",
    "journey.charged": "Charged", "journey.anyCharge": "Charged: any", "journey.yes": "Yes", "journey.no": "No",
    "journey.created": "Created", "journey.end": "Ends", "journey.chargedAt": "Charged at",
    "journey.messages": "Messages", "journey.none": "No journeys yet.", "journey.type": "Token type",
    "journey.st.active": "Active", "journey.st.charged": "Charged", "journey.st.expired": "Ended",
    "journey.token": "Token", "journey.zaloId": "Journey id (Zalo)", "journey.detail": "Journey detail",
    "journey.send": "Send a message in this journey", "journey.sentAt": "Sent", "journey.template": "Template",
    "journey.msgStatus": "Message status", "journey.noMessages": "No message sent in this journey yet.",
    "journey.create": "Create", "journey.cancel": "Cancel", "journey.noOa": "The company has no linked OA yet.",
    "journey.pick": "Pick a journey to see its detail.",
    "journey.type.token_logistics_7": "Logistics · 7 days", "journey.type.token_logistics_30": "Logistics · 30 days",
    "journey.type.token_coach_bus_7": "Coach bus · 7 days", "journey.type.token_coach_bus_30": "Coach bus · 30 days",
    "error.journey_expired": "This journey has ended; create a new journey to send more messages.",
    "error.invalid_token_type": "Unknown token type.",
    "error.invalid_phone": "Not a phone number; type it as 0912345678.",
  },
});

const TYPES = ["token_logistics_7", "token_logistics_30", "token_coach_bus_7", "token_coach_bus_30"];
const STATUSES = ["active", "charged", "expired"];

// The shared send dialog, posting within one journey (its phone and OA are the journey's).
class JourneySendDialog extends ZnsSendDialog {
  openFor(journey, oaName) {
    this.journey = journey;
    this.open({ phone: journey.phone, shown: journey.phone, oas: [{ oa_id: journey.oa_id, name: oaName }] });
  }

  async send() {
    if (!this.template) return;
    const data = {};
    for (const input of this.dialog.querySelectorAll(".zns-params input")) {
      if (input.value.trim() !== "") data[input.dataset.param] = input.value.trim();
    }
    try {
      const message = await api.post(`/api/zns/journeys/${encodeURIComponent(this.journey.id)}/messages`, {
        template_id: this.template.template_id, template_data: data,
      });
      this.onSent(message);
      this.dialog.close();
    } catch (err) {
      this.showError(() => this.ctx.errorText(err));
    }
  }
}

export class Journeys {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.journeys = new Map();
    this.openId = null;
    this.messages = new Map(); // the open journey's messages, by id
    this.loaded = false;
    this.loading = null;
    this.again = false;
    this.sender = new JourneySendDialog(ctx, { id: "journey-send-dialog", onSent: (message) => this.messageUpdated(message) });
    this.build();
    onLangChange(() => this.render());
  }

  build() {
    const label = (key, control) => h("label", {}, h("span", { "data-i18n": key }, t(key)), control);
    const choice = (name, keyAny, values, key) => h("select", { name },
      h("option", { value: "", "data-i18n": keyAny }, t(keyAny)),
      values.map((v) => h("option", { value: v, "data-i18n": key(v) }, t(key(v)))));
    this.form = h("form", { id: "journey-filters", class: "filter-bar" },
      label("journey.from", h("input", { name: "from", type: "date" })), label("journey.to", h("input", { name: "to", type: "date" })),
      label("journey.oa", h("select", { name: "oa_id" })), label("journey.phone", h("input", { name: "phone", size: 12 })),
      label("journey.status", choice("status", "journey.anyStatus", STATUSES, (s) => `journey.st.${s}`)),
      label("journey.charged", choice("charged", "journey.anyCharge", ["true", "false"], (v) => (v === "true" ? "journey.yes" : "journey.no"))),
      h("button", { type: "submit", class: "primary", "data-i18n": "journey.apply" }, t("journey.apply")),
      h("button", { type: "button", id: "journey-new", "data-i18n": "journey.new", onclick: () => this.openNew() }, t("journey.new")));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh().catch((err) => this.fail(err));
    });
    this.newDialog = h("dialog", { id: "journey-new-dialog", class: "customer-dialog" },
      h("form", { method: "dialog" },
        h("h3", { "data-i18n": "journey.new" }, t("journey.new")),
        label("journey.oa", h("select", { name: "oa_id", required: true })),
        label("journey.phone", h("input", { name: "phone", type: "tel", required: true, size: 16 })),
        label("journey.type", h("select", { name: "token_type" }, TYPES.map((type) => h("option", { value: type, "data-i18n": `journey.type.${type}` }, t(`journey.type.${type}`))))),
        h("p", { class: "error", role: "alert", hidden: true }),
        h("div", { class: "dialog-actions" },
          h("button", { type: "submit", class: "primary", value: "create", "data-i18n": "journey.create" }, t("journey.create")),
          h("button", { type: "button", class: "cancel", "data-i18n": "journey.cancel", onclick: () => this.newDialog.close() }, t("journey.cancel")))));
    this.newDialog.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.create().catch((err) => console.error(err));
    });
    document.body.append(this.newDialog);
    replace(this.root,
      h("h3", { "data-i18n": "journey.title" }, t("journey.title")),
      this.form,
      h("p", { id: "journey-error", class: "error", role: "alert", hidden: true }),
      h("div", { class: "zns-templates" }, h("table", { class: "grid", id: "journey-list" }), h("aside", { id: "journey-detail" })));
    this.render();
  }

  oaName(oaId) {
    return this.ctx.oaLinks.find((link) => link.oa_id === oaId)?.name || oaId;
  }

  activeOas() {
    return this.ctx.oaLinks.filter((link) => link.status === "active");
  }

  errorText(err) {
    if (err instanceof ApiError && err.code === "zalo_refused") return lang() === "vi" ? err.details.reason_vi : err.message;
    return this.ctx.errorText(err);
  }

  fail(err) {
    const error = $("#journey-error", this.root);
    say(error, () => this.errorText(err));
    error.hidden = false;
  }

  filters() {
    const form = new FormData(this.form);
    const to = form.get("to") ? new Date(Date.parse(fmt.zoneMidnight(form.get("to"))) + 86400000).toISOString() : null;
    return {
      from: fmt.zoneMidnight(form.get("from")), to, oa_id: form.get("oa_id") || null,
      phone: form.get("phone")?.trim() || null, status: form.get("status") || null, charged: form.get("charged") || null,
    };
  }

  // The ZNS tab was shown: the OA choices, and the list the first time (later, events keep it).
  open() {
    const select = $("select[name=oa_id]", this.form);
    const chosen = select.value;
    replace(select, option("", t("journey.anyOa")), this.ctx.oaLinks.map((link) => option(link.oa_id, link.name || link.oa_id, link.oa_id === chosen)));
    if (!this.loaded) this.refresh().catch((err) => this.fail(err));
  }

  // One read at a time; a filter change during a read asks for one more after it.
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    $("#journey-error", this.root).hidden = true;
    this.loading = api.get("/api/zns/journeys", this.filters());
    try {
      const { journeys } = await this.loading;
      this.journeys = new Map(journeys.map((j) => [j.id, j]));
      this.loaded = true;
      this.render();
    } finally {
      this.loading = null;
      if (this.again) {
        this.again = false;
        this.refresh().catch((err) => this.fail(err));
      }
    }
  }

  openNew() {
    const form = this.newDialog.querySelector("form");
    const oas = this.activeOas();
    replace(form.elements.oa_id, oas.map((link) => option(link.oa_id, link.name || link.oa_id)));
    form.elements.phone.value = "";
    this.newError(oas.length ? null : () => t("journey.noOa"));
    this.newDialog.showModal();
  }

  newError(text) {
    const error = this.newDialog.querySelector(".error");
    if (text) say(error, text);
    error.hidden = !text;
  }

  async create() {
    const form = this.newDialog.querySelector("form");
    try {
      const journey = await api.post("/api/zns/journeys", {
        oa_id: form.elements.oa_id.value, phone: form.elements.phone.value.trim(), token_type: form.elements.token_type.value,
      });
      this.newDialog.close();
      this.updated(journey);
      await this.show(journey.id);
    } catch (err) {
      this.newError(() => this.errorText(err));
    }
  }

  async show(journeyId) {
    this.openId = journeyId;
    this.messages = new Map();
    this.render();
    try {
      const detail = await api.get(`/api/zns/journeys/${encodeURIComponent(journeyId)}`);
      if (this.openId !== journeyId) return;
      this.journeys.set(detail.journey.id, detail.journey);
      for (const message of detail.messages) if (!this.messages.has(message.id)) this.messages.set(message.id, message);
      this.render();
    } catch (err) {
      this.fail(err);
    }
  }

  // journey.updated: its row and, when open, its detail.
  updated(journey) {
    this.journeys.set(journey.id, journey);
    this.render();
  }

  // zns.updated (and a send's answer): a message of the open journey.
  messageUpdated(message) {
    if (!message.journey_id || message.journey_id !== this.openId) return;
    this.messages.set(message.id, message);
    this.renderDetail();
  }

  render() {
    this.renderList();
    this.renderDetail();
  }

  renderList() {
    const rows = [...this.journeys.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    replace($("#journey-list", this.root),
      h("thead", {}, h("tr", {}, ["journey.oa", "journey.phone", "journey.created", "journey.end", "journey.chargedAt",
        "journey.status", "journey.charged", "journey.messages"].map((key) => h("th", {}, t(key))))),
      h("tbody", {}, rows.length ? rows.map((j) => h("tr", {
        class: j.id === this.openId ? "selected" : "", dataset: { journeyId: j.id, status: j.status, charged: String(j.charged) },
        onclick: () => this.show(j.id),
      }, h("td", {}, this.oaName(j.oa_id)), h("td", {}, j.phone), h("td", {}, fmt.when(j.created_at)),
        h("td", {}, fmt.when(j.ended_at || j.expires_at)), h("td", {}, j.charged_at ? fmt.when(j.charged_at) : "–"),
        h("td", {}, h("span", { class: `badge journey ${j.status}` }, t(`journey.st.${j.status}`))),
        h("td", {}, j.charged ? t("journey.yes") : t("journey.no")), h("td", {}, String(j.messages))))
        : h("tr", {}, h("td", { colspan: 8, class: "muted" }, t("journey.none")))));
  }

  renderDetail() {
    const box = $("#journey-detail", this.root);
    const j = this.openId ? this.journeys.get(this.openId) : null;
    if (!j) {
      replace(box, h("p", { class: "muted" }, t("journey.pick")));
      return;
    }
    const messages = [...this.messages.values()].sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
    const fact = (key, value) => [h("dt", {}, t(key)), h("dd", {}, value)];
    replace(box,
      h("h4", {}, `${t("journey.detail")} · ${j.phone}`),
      h("dl", { class: "zns-template-facts", dataset: { journeyId: j.id, status: j.status } },
        fact("journey.oa", this.oaName(j.oa_id)), fact("journey.token", j.token), fact("journey.zaloId", j.journey_id || "–"),
        fact("journey.type", t(`journey.type.${j.token_type}`)), fact("journey.created", fmt.when(j.created_at)),
        fact("journey.end", fmt.when(j.ended_at || j.expires_at)),
        fact("journey.status", h("span", { class: `badge journey ${j.status}` }, t(`journey.st.${j.status}`))),
        fact("journey.charged", j.charged ? t("journey.yes") : t("journey.no")),
        fact("journey.chargedAt", j.charged_at ? fmt.when(j.charged_at) : "–")),
      h("button", {
        type: "button", id: "journey-send", class: "primary", disabled: j.status === "expired",
        onclick: () => this.sender.openFor(j, this.oaName(j.oa_id)),
      }, t("journey.send")),
      h("table", { class: "grid", id: "journey-messages" },
        h("thead", {}, h("tr", {}, ["journey.sentAt", "journey.template", "journey.msgStatus", "journey.charged"].map((key) => h("th", {}, t(key))))),
        h("tbody", {}, messages.length ? messages.map((m) => h("tr", { dataset: { znsId: m.id, status: m.status } },
          h("td", {}, fmt.when(m.sent_at)), h("td", {}, m.template_id),
          h("td", {}, t(`zns.st.${m.status}`), m.failure ? h("div", { class: "muted" }, lang() === "vi" ? m.failure.reason_vi : m.failure.reason) : null),
          h("td", {}, m.charged ? t("journey.yes") : t("journey.no"))))
          : h("tr", {}, h("td", { colspan: 4, class: "muted" }, t("journey.noMessages"))))));
  }
}
