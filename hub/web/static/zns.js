// The ZNS tab (owners and managers): the period's report (figures, a per-day chart of results and spend, and
// per template), the sent messages with their delivery, charge and review (filtered, exported), and the
// service reviews customers left. Kept live by zns.updated: a message's row changes in place, and the report
// is read again — at most one request at a time, only while the tab is on screen (events, never a timer).
import { api } from "./api.js";
import { loadChartLibrary } from "./dashboard.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, lang, locale, t } from "./i18n.js";
import { ZnsSendDialog } from "./zns_send.js";

addStrings({
  vi: {
    "nav.zns": "ZNS",
    "zns.title": "Tin ZNS", "zns.from": "Từ ngày", "zns.to": "Đến ngày", "zns.oa": "OA", "zns.anyOa": "Mọi OA",
    "zns.template": "Mẫu tin", "zns.phone": "Số điện thoại", "zns.msgId": "Mã tin (msg id)", "zns.apply": "Xem",
    "zns.report": "Báo cáo", "zns.messages": "Danh sách tin đã gửi", "zns.reviews": "Đánh giá dịch vụ",
    "zns.sent": "Tổng tin đã gửi", "zns.success": "Gửi thành công", "zns.failed": "Gửi thất bại",
    "zns.processing": "Đang xử lý", "zns.charged": "Tin tính phí", "zns.free": "Tin miễn phí", "zns.spend": "Tổng chi phí (VNĐ)",
    "zns.perDay": "Kết quả gửi và chi phí theo ngày", "zns.byTemplate": "Theo mẫu tin", "zns.day": "Ngày",
    "zns.sentAt": "Gửi lúc", "zns.status": "Trạng thái", "zns.price": "Đơn giá", "zns.review": "Đánh giá",
    "zns.anyStatus": "Mọi trạng thái", "zns.st.processing": "Đang xử lý", "zns.st.success": "Thành công",
    "zns.st.failure": "Thất bại", "zns.yes": "Có", "zns.no": "Không", "zns.none": "Chưa có tin nào.",
    "zns.stars": "Số sao", "zns.content": "Nội dung đánh giá", "zns.note": "Ghi chú", "zns.reviewedAt": "Thời gian đánh giá",
    "zns.noReviews": "Chưa có đánh giá nào.", "zns.export": "Xuất Excel",
    "zns.chart": "Biểu đồ cột: {sent} tin trong {days} ngày, {success} thành công, {failed} thất bại, chi phí {spend}.",
    "zns.anyKind": "Mọi loại", "zns.type": "Loại mẫu", "zns.type.text": "Văn bản", "zns.type.otp": "OTP",
    "zns.type.payment": "Yêu cầu thanh toán", "zns.type.voucher": "Voucher", "zns.type.rating": "Đánh giá dịch vụ",
    "zns.byKind": "Theo loại gửi", "zns.kind": "Loại", "zns.kind.phone": "Theo số điện thoại",
    "zns.kind.journey": "Hành trình (journey)", "zns.kind.uid": "Theo user id",
    "zns.send": "Gửi tin", "zns.templates": "Mẫu tin", "zns.loadTemplates": "Tải mẫu tin từ Zalo",
    "zns.templateName": "Tên mẫu", "zns.quality": "Chất lượng", "zns.created": "Ngày tạo", "zns.params": "Tham số",
    "zns.otpTemplate": "OTP", "zns.yesOtp": "Có (15 giây)", "zns.preview": "Xem trước", "zns.noTemplates": "Chưa tải mẫu tin nào.",
    "zns.paramRequired": "bắt buộc", "zns.paramLength": "{min}–{max} ký tự",
  },
  en: {
    "nav.zns": "ZNS",
    "zns.title": "ZNS messages", "zns.from": "From", "zns.to": "To", "zns.oa": "OA", "zns.anyOa": "Every OA",
    "zns.template": "Template", "zns.phone": "Phone", "zns.msgId": "Message id", "zns.apply": "Show",
    "zns.report": "Report", "zns.messages": "Sent messages", "zns.reviews": "Service reviews",
    "zns.sent": "Messages sent", "zns.success": "Succeeded", "zns.failed": "Failed",
    "zns.processing": "Processing", "zns.charged": "Charged", "zns.free": "Free", "zns.spend": "Total spend (VND)",
    "zns.perDay": "Results and spend per day", "zns.byTemplate": "Per template", "zns.day": "Day",
    "zns.sentAt": "Sent", "zns.status": "Status", "zns.price": "Unit price", "zns.review": "Review",
    "zns.anyStatus": "Any status", "zns.st.processing": "Processing", "zns.st.success": "Succeeded",
    "zns.st.failure": "Failed", "zns.yes": "Yes", "zns.no": "No", "zns.none": "No messages yet.",
    "zns.stars": "Stars", "zns.content": "Review", "zns.note": "Note", "zns.reviewedAt": "Reviewed",
    "zns.noReviews": "No reviews yet.", "zns.export": "Export Excel",
    "zns.chart": "Bar chart: {sent} messages over {days} days, {success} succeeded, {failed} failed, spend {spend}.",
    "zns.anyKind": "Every kind", "zns.type": "Type", "zns.type.text": "Text", "zns.type.otp": "OTP",
    "zns.type.payment": "Payment request", "zns.type.voucher": "Voucher", "zns.type.rating": "Service rating",
    "zns.byKind": "By kind of send", "zns.kind": "Kind", "zns.kind.phone": "By phone number",
    "zns.kind.journey": "Journey", "zns.kind.uid": "By user id",
    "zns.send": "Send a message", "zns.templates": "Templates", "zns.loadTemplates": "Load templates from Zalo",
    "zns.templateName": "Name", "zns.quality": "Quality", "zns.created": "Created", "zns.params": "Parameters",
    "zns.otpTemplate": "OTP", "zns.yesOtp": "Yes (15 s)", "zns.preview": "Preview", "zns.noTemplates": "No template loaded yet.",
    "zns.paramRequired": "required", "zns.paramLength": "{min}–{max} characters",
  },
});

const FIGURES = ["sent", "success", "failed", "processing", "charged", "free", "spend"];
const number = (value) => new Intl.NumberFormat(locale()).format(value ?? 0);

// Numbers of the company's contacts matching what was typed (name or number), for the send dialog.
async function contactPhones(text) {
  try {
    const { contacts } = await api.get("/api/contacts", { q: text, limit: 8 });
    return contacts.flatMap((c) => (c.phones || []).map((phone) => [phone, `${c.name} · ${phone}`]));
  } catch {
    return []; // no match list: the number is typed in full
  }
}

export class Zns {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.report = null;
    this.messages = new Map();
    this.reviews = [];
    this.stale = true;
    this.loading = null;
    this.again = false;
    this.chart = null;
    this.templates = [];
    this.template = null;
    this.sender = new ZnsSendDialog(ctx, {
      id: "zns-send-dialog",
      onSent: (message) => this.updated(message),
      suggest: (text) => contactPhones(text),
    });
    this.build();
  }

  build() {
    const field = (name, key, attrs = {}) => h("label", {}, h("span", { "data-i18n": key }, t(key)), h("input", { name, ...attrs }));
    this.form = h("form", { id: "zns-filters", class: "filter-bar" },
      field("from", "zns.from", { type: "date" }), field("to", "zns.to", { type: "date" }),
      h("label", {}, h("span", { "data-i18n": "zns.oa" }, t("zns.oa")), h("select", { name: "oa_id" })),
      field("template_id", "zns.template", { size: 12 }), field("phone", "zns.phone", { size: 12 }),
      field("msg_id", "zns.msgId", { size: 14 }),
      field("campaign_id", "zns.campaign", { size: 14 }), // set by a campaign's "show its messages" (campaigns.js)
      h("label", {}, h("span", { "data-i18n": "zns.kind" }, t("zns.kind")), h("select", { name: "kind" },
        ["", "phone", "journey", "uid"].map((k) => h("option", { value: k, "data-i18n": k ? `zns.kind.${k}` : "zns.anyKind" }, t(k ? `zns.kind.${k}` : "zns.anyKind"))))),
      h("label", {}, h("span", { "data-i18n": "zns.status" }, t("zns.status")), h("select", { name: "status" },
        ["", "processing", "success", "failure"].map((s) => h("option", { value: s, "data-i18n": s ? `zns.st.${s}` : "zns.anyStatus" }, t(s ? `zns.st.${s}` : "zns.anyStatus"))))),
      h("button", { type: "submit", class: "primary", "data-i18n": "zns.apply" }, t("zns.apply")),
      h("button", { type: "button", class: "link", id: "zns-export", "data-i18n": "zns.export", onclick: () => this.export() }, t("zns.export")),
      h("button", { type: "button", id: "zns-send", "data-i18n": "zns.send", onclick: () => this.sender.open({ oas: this.activeOas() }) }, t("zns.send")));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh().catch((err) => this.fail(err));
    });
    replace(this.root,
      h("h2", { "data-i18n": "zns.title" }, t("zns.title")),
      this.form,
      h("p", { id: "zns-error", class: "error", role: "alert", hidden: true }),
      h("h3", { "data-i18n": "zns.report" }, t("zns.report")),
      h("dl", { id: "zns-totals", class: "dash-cards" }),
      h("figure", { class: "dash-chart" }, h("figcaption", { "data-i18n": "zns.perDay" }, t("zns.perDay")),
        h("div", { class: "dash-canvas" }, h("canvas", { id: "zns-chart", role: "img" }))),
      h("h3", { "data-i18n": "zns.byTemplate" }, t("zns.byTemplate")),
      h("table", { class: "grid", id: "zns-by-template" }),
      h("h3", { "data-i18n": "zns.byKind" }, t("zns.byKind")),
      h("table", { class: "grid", id: "zns-by-kind" }),
      h("h3", { "data-i18n": "zns.messages" }, t("zns.messages")),
      h("table", { class: "grid", id: "zns-messages" }),
      h("h3", { "data-i18n": "zns.reviews" }, t("zns.reviews")),
      h("table", { class: "grid", id: "zns-reviews" }),
      h("h3", { "data-i18n": "zns.templates" }, t("zns.templates")),
      h("div", { class: "filter-bar" },
        h("select", { id: "zns-template-oa", "aria-label": "OA" }),
        h("button", { type: "button", id: "zns-load-templates", "data-i18n": "zns.loadTemplates", onclick: () => this.loadTemplates() }, t("zns.loadTemplates"))),
      h("div", { class: "zns-templates" }, h("table", { class: "grid", id: "zns-template-list" }), h("aside", { id: "zns-template-detail" })),
      // Filled by their own modules (campaigns.js, journeys.js), built once like this tab.
      h("section", { id: "zns-campaigns", class: "zns-part" }),
      h("section", { id: "zns-journeys", class: "zns-part" }));
    this.renderTemplates();
  }

  activeOas() {
    return this.ctx.oaLinks.filter((link) => link.status === "active").map((link) => ({ oa_id: link.oa_id, name: link.name }));
  }

  // The OA's templates, from Zalo now (kept by the hub): status, quality; one opened shows its parameters.
  async loadTemplates() {
    const oaId = $("#zns-template-oa", this.root).value;
    if (!oaId) return;
    try {
      const answer = await api.get("/api/zns/templates", { oa_id: oaId });
      this.templates = answer.templates.map((tpl) => ({ ...tpl, oa_id: oaId }));
      this.template = null;
      if (answer.zalo_error) throw Object.assign(new Error(lang() === "vi" ? answer.zalo_error.reason_vi : answer.zalo_error.reason), {});
    } catch (err) {
      this.fail(err);
    }
    this.renderTemplates();
  }

  async openTemplate(tpl) {
    try {
      this.template = await api.get(`/api/zns/templates/${encodeURIComponent(tpl.template_id)}`, { oa_id: tpl.oa_id });
      const fresh = this.template; // what the detail told of the template (its type, status, quality), in the list too
      this.templates = this.templates.map((row) => (row.template_id === fresh.template_id
        ? { ...row, type: fresh.type, status: fresh.status, quality: fresh.quality } : row));
    } catch (err) {
      this.fail(err);
    }
    this.renderTemplates();
  }

  renderTemplates() {
    const oaSelect = $("#zns-template-oa", this.root);
    const chosen = oaSelect.value;
    replace(oaSelect, this.activeOas().map((oa) => option(oa.oa_id, oa.name || oa.oa_id, oa.oa_id === chosen)));
    replace($("#zns-template-list", this.root),
      h("thead", {}, h("tr", {}, ["zns.template", "zns.templateName", "zns.type", "zns.status", "zns.quality", "zns.created"].map((key) => h("th", {}, t(key))))),
      h("tbody", {}, this.templates.length ? this.templates.map((tpl) => h("tr", {
        class: this.template?.template_id === tpl.template_id ? "selected" : "", dataset: { templateId: tpl.template_id },
        onclick: () => this.openTemplate(tpl),
      }, h("td", {}, tpl.template_id), h("td", {}, tpl.name || ""), h("td", {}, tpl.type ? t(`zns.type.${tpl.type}`) : "–"),
        h("td", {}, tpl.status || "–"),
        h("td", {}, tpl.quality || "–"), h("td", {}, tpl.created_at ? fmt.when(tpl.created_at) : "–")))
        : h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("zns.noTemplates")))));
    const tpl = this.template;
    replace($("#zns-template-detail", this.root), tpl ? [
      h("h4", {}, `${tpl.name} (${tpl.template_id})`),
      h("dl", { class: "zns-template-facts" },
        h("dt", {}, t("zns.type")), h("dd", { class: "zns-template-type" }, tpl.type ? t(`zns.type.${tpl.type}`) : "–"),
        h("dt", {}, t("zns.status")), h("dd", {}, tpl.status || "–"),
        h("dt", {}, t("zns.quality")), h("dd", {}, tpl.quality || "–"),
        h("dt", {}, t("zns.otpTemplate")), h("dd", {}, tpl.otp ? t("zns.yesOtp") : t("zns.no")),
        h("dt", {}, t("zns.price")), h("dd", {}, tpl.price_sdt || tpl.price || "–"),
        tpl.preview_url ? [h("dt", {}, t("zns.preview")), h("dd", {}, h("a", { href: tpl.preview_url, target: "_blank", rel: "noopener" }, t("zns.preview")))] : null),
      h("h4", {}, t("zns.params")),
      h("ul", { class: "zns-template-params" }, tpl.listParams.map((p) => h("li", { dataset: { param: p.name } },
        h("code", {}, p.name), " ", p.type || "", p.require ? ` · ${t("zns.paramRequired")}` : "",
        p.maxLength ? ` · ${t("zns.paramLength", { min: p.minLength ?? 0, max: p.maxLength })}` : ""))),
    ] : []);
  }

  filters() {
    const form = new FormData(this.form);
    const to = form.get("to") ? new Date(Date.parse(fmt.zoneMidnight(form.get("to"))) + 86400000).toISOString() : null;
    const text = (name) => form.get(name)?.trim() || null;
    return {
      from: fmt.zoneMidnight(form.get("from")), to, oa_id: form.get("oa_id") || null, kind: form.get("kind") || null,
      template_id: text("template_id"), phone: text("phone"), msg_id: text("msg_id"), status: form.get("status") || null,
      campaign_id: text("campaign_id"),
    };
  }

  fail(err) {
    const error = $("#zns-error", this.root);
    error.textContent = this.ctx.errorText(err);
    error.hidden = false;
  }

  open() {
    const select = $("select[name=oa_id]", this.form);
    const chosen = select.value;
    replace(select, option("", t("zns.anyOa")), this.ctx.oaLinks.map((link) => option(link.oa_id, link.name || link.oa_id, link.oa_id === chosen)));
    this.renderTemplates();
    if (this.stale) this.refresh().catch((err) => this.fail(err));
  }

  onScreen() {
    return !this.root.hidden && document.visibilityState === "visible";
  }

  // One read at a time; an event during a read asks for one more after it.
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    $("#zns-error", this.root).hidden = true;
    const f = this.filters();
    this.loading = Promise.all([
      api.get("/api/reports/zns", { from: f.from, to: f.to, oa_id: f.oa_id, template_id: f.template_id, kind: f.kind }),
      api.get("/api/zns/messages", { ...f, kind: null }),
      api.get("/api/zns/reviews", { template_id: f.template_id, phone: f.phone, msg_id: f.msg_id, oa_id: f.oa_id }),
    ]);
    try {
      const [report, { messages }, { reviews }] = await this.loading;
      this.report = report;
      this.messages = new Map(messages.map((m) => [m.id, m]));
      this.reviews = reviews;
      this.stale = false;
      await this.render();
    } finally {
      this.loading = null;
      if (this.again) {
        this.again = false;
        if (this.onScreen()) this.refresh().catch((err) => this.fail(err));
        else this.stale = true;
      }
    }
  }

  // zns.updated: the message's row at once; the report (and reviews) read again while the tab is shown.
  updated(message) {
    this.messages.set(message.id, message);
    this.renderMessages();
    if (this.onScreen()) this.refresh().catch((err) => this.fail(err));
    else this.stale = true;
  }

  async render() {
    if (!this.report) return;
    const totals = this.report.totals;
    replace($("#zns-totals", this.root), FIGURES.map((key) => h("div", { class: "dash-card", dataset: { figure: key } },
      h("dt", {}, t(`zns.${key}`)), h("dd", {}, number(totals[key])))));
    replace($("#zns-by-template", this.root),
      h("thead", {}, h("tr", {}, h("th", {}, t("zns.template")), FIGURES.map((key) => h("th", {}, t(`zns.${key}`))))),
      h("tbody", {}, this.report.by_template.map((row) => h("tr", { dataset: { template: row.template_id } },
        h("td", {}, row.template_id), FIGURES.map((key) => h("td", {}, number(row[key])))))));
    const kindName = (kind) => (t(`zns.kind.${kind}`) === `zns.kind.${kind}` ? kind : t(`zns.kind.${kind}`));
    replace($("#zns-by-kind", this.root),
      h("thead", {}, h("tr", {}, h("th", {}, t("zns.kind")), FIGURES.map((key) => h("th", {}, t(`zns.${key}`))))),
      h("tbody", {}, this.report.by_kind.map((row) => h("tr", { dataset: { kind: row.kind } },
        h("td", {}, kindName(row.kind)), FIGURES.map((key) => h("td", {}, number(row[key])))))));
    this.renderMessages();
    this.renderReviews();
    this.renderTemplates();
    await this.renderChart();
  }

  renderMessages() {
    const rows = [...this.messages.values()].sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
    replace($("#zns-messages", this.root),
      h("thead", {}, h("tr", {}, ["zns.sentAt", "zns.phone", "zns.template", "zns.oa", "zns.msgId", "zns.status",
        "zns.charged", "zns.price", "zns.review"].map((key) => h("th", {}, t(key))))),
      h("tbody", {}, rows.length ? rows.map((m) => h("tr", { dataset: { znsId: m.id, status: m.status } },
        h("td", {}, fmt.when(m.sent_at)), h("td", {}, m.phone), h("td", {}, m.template_id), h("td", {}, m.oa_id),
        h("td", {}, m.msg_id || "–"),
        h("td", {}, h("span", { class: `badge zns ${m.status}` }, t(`zns.st.${m.status}`)),
          m.failure ? h("div", { class: "muted" }, lang() === "vi" ? m.failure.reason_vi : m.failure.reason) : null),
        h("td", {}, m.charged ? t("zns.yes") : t("zns.no")), h("td", {}, m.unit_price != null ? number(m.unit_price) : "–"),
        h("td", {}, m.review ? `${"★".repeat(m.review.rate || 0)} ${m.review.note || ""}` : "–")))
        : h("tr", {}, h("td", { colspan: 9, class: "muted" }, t("zns.none")))));
  }

  renderReviews() {
    replace($("#zns-reviews", this.root),
      h("thead", {}, h("tr", {}, ["zns.msgId", "zns.template", "zns.oa", "zns.phone", "zns.stars", "zns.content", "zns.note",
        "zns.reviewedAt"].map((key) => h("th", {}, t(key))))),
      h("tbody", {}, this.reviews.length ? this.reviews.map((r) => h("tr", { dataset: { reviewId: r.id } },
        h("td", {}, r.msg_id || "–"), h("td", {}, r.template_id), h("td", {}, r.oa_id), h("td", {}, r.phone),
        h("td", { "aria-label": `${r.rate}` }, "★".repeat(r.rate || 0)), h("td", {}, r.feedbacks.join(", ")),
        h("td", {}, r.note || ""), h("td", {}, r.submitted_at ? fmt.when(r.submitted_at) : "–")))
        : h("tr", {}, h("td", { colspan: 8, class: "muted" }, t("zns.noReviews")))));
  }

  async renderChart() {
    const days = this.report.per_day;
    const canvas = $("#zns-chart", this.root);
    const summary = t("zns.chart", { ...this.report.totals, days: days.length, spend: number(this.report.totals.spend) });
    canvas.setAttribute("aria-label", summary);
    canvas.textContent = summary;
    let Chart;
    try {
      Chart = await loadChartLibrary();
    } catch {
      return; // the figures are in the cards and the tables
    }
    const data = {
      labels: days.map((d) => d.day.slice(5).split("-").reverse().join("/")),
      datasets: [
        { type: "bar", label: t("zns.success"), data: days.map((d) => d.success), backgroundColor: "#3aa76d", stack: "n" },
        { type: "bar", label: t("zns.failed"), data: days.map((d) => d.failed), backgroundColor: "#d9534f", stack: "n" },
        { type: "line", label: t("zns.spend"), data: days.map((d) => d.spend), borderColor: "#0b63ce", yAxisID: "spend" },
      ],
    };
    this.chart?.destroy();
    this.chart = new Chart(canvas, {
      data,
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, stacked: true },
        spend: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } },
    });
  }

  export() {
    const f = this.filters();
    api.download("/api/zns/messages/export", { ...f, format: "xlsx", lang: lang() }).catch((err) => this.fail(err));
  }
}
