// ZNS campaigns in the ZNS tab (owners and managers; hub.zns_campaigns): the guide's counters, the list with
// each campaign's status, time and progress, "New campaign" (OA, template, name, a file of phones and the
// template's parameters, now or at a time) -> the preview of its rows (jobs.js) with the estimated cost ->
// confirmed -> live progress; a campaign's detail with its figures, a link to its messages in the sent list,
// and, while it waits for its time, change the time, send now, or cancel. Live by job.updated (no polling).
import { api } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, lang, locale, say, t } from "./i18n.js";
import { JobPanel, showJob } from "./jobs.js";

addStrings({
  vi: {
    "camp.title": "Chiến dịch ZNS", "camp.new": "Tạo chiến dịch", "camp.oa": "OA", "camp.template": "Mẫu tin",
    "camp.pickTemplate": "— Chọn mẫu —", "camp.name": "Tên chiến dịch", "camp.file": "Tệp danh sách (.xlsx, .csv)",
    "camp.columns": "Cột của tệp: Số điện thoại{params}.", "camp.send": "Thời gian gửi", "camp.now": "Gửi ngay",
    "camp.at": "Hẹn giờ gửi", "camp.upload": "Tải lên và kiểm tra", "camp.cost": "Chi phí dự kiến: {cost} đ ({valid} tin × {price} đ)",
    "camp.noPrice": "Chưa có đơn giá cho mẫu này.", "camp.sendAt": "Gửi lúc {at}", "camp.sendNow": "Gửi ngay khi xác nhận",
    "camp.pickTime": "Hãy chọn thời gian gửi.", "camp.pickAll": "Hãy chọn OA, mẫu tin, tên và tệp.",
    "camp.total": "Tổng", "camp.immediate": "Gửi ngay", "camp.st.pending": "Chờ xác nhận", "camp.st.scheduled": "Đã hẹn giờ",
    "camp.st.processing": "Đang gửi", "camp.st.completed": "Hoàn tất", "camp.st.failed": "Thất bại", "camp.st.cancelled": "Đã hủy",
    "camp.anyStatus": "Mọi trạng thái", "camp.status": "Trạng thái", "camp.scheduled": "Hẹn lúc", "camp.progress": "Tiến độ",
    "camp.none": "Chưa có chiến dịch nào.", "camp.detail": "Chi tiết", "camp.recorded": "Số dòng", "camp.sent": "Đã gửi",
    "camp.delivered": "Đã nhận", "camp.charged": "Tính phí", "camp.failed": "Thất bại", "camp.unknown": "Không rõ",
    "camp.estimated": "Chi phí dự kiến (đ)", "camp.actual": "Chi phí thực tế (đ)", "camp.messages": "Xem các tin của chiến dịch",
    "camp.changeTime": "Đổi giờ", "camp.sendNowBtn": "Gửi ngay", "camp.cancel": "Hủy chiến dịch", "camp.close": "Đóng",
    "camp.out.sent": "Đã gửi", "camp.out.unknown": "Không rõ (đang gửi khi hệ thống dừng)", "camp.out.failed": "Thất bại",
    "camp.phone": "Số điện thoại", "zns.campaign": "Chiến dịch",
  },
  en: {
    "camp.title": "ZNS campaigns", "camp.new": "New campaign", "camp.oa": "OA", "camp.template": "Template",
    "camp.pickTemplate": "— Pick a template —", "camp.name": "Campaign name", "camp.file": "List file (.xlsx, .csv)",
    "camp.columns": "The file's columns: Phone{params}.", "camp.send": "Sending", "camp.now": "Send now",
    "camp.at": "Schedule", "camp.upload": "Upload and check", "camp.cost": "Estimated cost: {cost} VND ({valid} messages × {price} VND)",
    "camp.noPrice": "No unit price for this template yet.", "camp.sendAt": "Sends at {at}", "camp.sendNow": "Sends as soon as confirmed",
    "camp.pickTime": "Pick the time to send.", "camp.pickAll": "Pick the OA, the template, a name and the file.",
    "camp.total": "Total", "camp.immediate": "Sent at once", "camp.st.pending": "Waiting for confirmation", "camp.st.scheduled": "Scheduled",
    "camp.st.processing": "Sending", "camp.st.completed": "Completed", "camp.st.failed": "Failed", "camp.st.cancelled": "Cancelled",
    "camp.anyStatus": "Any status", "camp.status": "Status", "camp.scheduled": "Scheduled for", "camp.progress": "Progress",
    "camp.none": "No campaign yet.", "camp.detail": "Detail", "camp.recorded": "Rows", "camp.sent": "Sent",
    "camp.delivered": "Delivered", "camp.charged": "Charged", "camp.failed": "Failed", "camp.unknown": "Unknown",
    "camp.estimated": "Estimated cost (VND)", "camp.actual": "Actual cost (VND)", "camp.messages": "Show the campaign's messages",
    "camp.changeTime": "Change time", "camp.sendNowBtn": "Send now", "camp.cancel": "Cancel campaign", "camp.close": "Close",
    "camp.out.sent": "Sent", "camp.out.unknown": "Unknown (sending when the hub stopped)", "camp.out.failed": "Failed",
    "camp.phone": "Phone", "zns.campaign": "Campaign",
  },
});

const COUNTERS = ["total", "scheduled", "immediate", "pending", "processing", "completed", "cancelled", "failed"];
const STATUSES = ["pending", "scheduled", "processing", "completed", "failed", "cancelled"];
const FIGURES = ["recorded", "sent", "delivered", "charged", "failed", "unknown"];
const number = (value) => new Intl.NumberFormat(locale()).format(value ?? 0);

// A "yyyy-mm-ddThh:mm" typed in a datetime-local input, in the company's time zone, as ISO.
function zoneTime(text) {
  if (!text) return null;
  const [date, time] = text.split("T");
  const [hours, minutes] = time.split(":").map(Number);
  return new Date(Date.parse(fmt.zoneMidnight(date)) + (hours * 60 + minutes) * 60000).toISOString();
}

// A parameter's problems name the parameter (missing_param:order_code): said in words with its name.
const PARAM_PROBLEMS = {
  vi: { missing_param: "Thiếu {name}", param_too_long: "{name} quá dài", param_too_short: "{name} quá ngắn" },
  en: { missing_param: "{name} missing", param_too_long: "{name} too long", param_too_short: "{name} too short" },
};

function registerParamProblems(params) {
  const words = { vi: {}, en: {} };
  for (const p of params) {
    for (const [language, kinds] of Object.entries(PARAM_PROBLEMS)) {
      for (const [kind, text] of Object.entries(kinds)) words[language][`problem.${kind}:${p.name}`] = text.replace("{name}", p.name);
    }
  }
  addStrings(words);
}

// The preview of a campaign's rows: confirmed with the sending time chosen in the form (run_at).
class CampaignPanel extends JobPanel {
  async confirm() {
    await this.act(async () => {
      const { params, run_at } = this.spec.confirmChoice();
      this.job = (await api.post(`/api/jobs/${this.job.id}/confirm`, { params, run_at })).job;
      this.onlyProblems = false;
      this.render();
    });
  }

  render() {
    super.render();
    this.spec.rendered?.(this.job);
  }
}

export class Campaigns {
  constructor(ctx, root, zns) {
    this.ctx = ctx;
    this.root = root;
    this.zns = zns;
    this.items = new Map();
    this.stats = null;
    this.detail = null;
    this.template = null; // the chosen template's detail (its parameters)
    this.preview = null; // { campaign, panel, runAt }
    this.loaded = false;
    this.build();
  }

  build() {
    const label = (key, control) => h("label", {}, h("span", { "data-i18n": key }, t(key)), control);
    this.form = h("form", { id: "campaign-form", class: "filter-bar campaign-form", hidden: true },
      label("camp.oa", h("select", { name: "oa_id", required: true })),
      label("camp.template", h("select", { name: "template_id", required: true })),
      label("camp.name", h("input", { name: "name", required: true, maxlength: 200, size: 24 })),
      label("camp.file", h("input", { name: "file", type: "file", accept: ".xlsx,.csv", required: true })),
      h("fieldset", { class: "campaign-when" }, h("legend", { "data-i18n": "camp.send" }, t("camp.send")),
        h("label", {}, h("input", { type: "radio", name: "send_mode", value: "now", checked: true }), " ", h("span", { "data-i18n": "camp.now" }, t("camp.now"))),
        h("label", {}, h("input", { type: "radio", name: "send_mode", value: "at" }), " ", h("span", { "data-i18n": "camp.at" }, t("camp.at"))),
        h("input", { type: "datetime-local", name: "run_at", "aria-label": t("camp.at") })),
      h("p", { class: "muted campaign-columns" }),
      h("button", { type: "submit", class: "primary", "data-i18n": "camp.upload" }, t("camp.upload")));
    this.form.elements.oa_id.addEventListener("change", () => this.loadTemplates().catch((err) => this.fail(err)));
    this.form.elements.template_id.addEventListener("change", () => this.loadTemplate().catch((err) => this.fail(err)));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create().catch((err) => this.fail(err));
    });
    this.statusFilter = h("select", { id: "campaign-status", "aria-label": t("camp.status"), onchange: () => this.renderList() });
    replace(this.root,
      h("h3", { "data-i18n": "camp.title" }, t("camp.title")),
      h("dl", { id: "campaign-counters", class: "dash-cards" }),
      h("div", { class: "filter-bar" }, this.statusFilter,
        h("button", { type: "button", id: "campaign-new", "data-i18n": "camp.new", onclick: () => this.openForm() }, t("camp.new"))),
      this.form,
      h("p", { id: "campaign-error", class: "error", role: "alert", hidden: true }),
      h("div", { id: "campaign-preview", hidden: true }, h("p", { id: "campaign-cost" }), h("p", { id: "campaign-when", class: "muted" }),
        h("div", { id: "campaign-job" })),
      h("table", { class: "grid", id: "campaign-list" }),
      h("aside", { id: "campaign-detail", hidden: true }));
    this.render();
  }

  fail(err) {
    say($("#campaign-error", this.root), () => this.ctx.errorText(err));
    $("#campaign-error", this.root).hidden = false;
  }

  async open() {
    if (!this.loaded) await this.load().catch((err) => this.fail(err));
  }

  async load() {
    const [{ campaigns }, stats] = await Promise.all([api.get("/api/zns/campaigns"), api.get("/api/zns/campaigns/stats")]);
    this.items = new Map(campaigns.map((c) => [c.id, c]));
    this.stats = stats;
    this.loaded = true;
    this.render();
  }

  // job.updated of a campaign: its row (and counters, detail) read again — one campaign, one request.
  apply(type, data) {
    if (type !== "job.updated" || data.kind !== "zns.campaign" || !this.loaded) return;
    this.refreshOne(data.id).catch((err) => this.fail(err));
  }

  async refreshOne(id) {
    const before = this.items.get(id)?.status;
    const { campaign } = await api.get(`/api/zns/campaigns/${id}`);
    this.items.set(id, campaign);
    if (this.detail?.id === id) this.detail = campaign;
    if (before !== campaign.status) this.stats = await api.get("/api/zns/campaigns/stats");
    if (this.preview?.campaign.id === id) this.preview.campaign = campaign;
    this.render();
  }

  activeOas() {
    return this.ctx.oaLinks.filter((link) => link.status === "active");
  }

  openForm() {
    this.form.hidden = !this.form.hidden;
    const select = this.form.elements.oa_id;
    const chosen = select.value;
    replace(select, this.activeOas().map((link) => option(link.oa_id, link.name || link.oa_id, link.oa_id === chosen)));
    if (!this.form.hidden) this.loadTemplates().catch((err) => this.fail(err));
  }

  // The OA's enabled templates; the one chosen stays chosen, and only the last of two quick reads counts.
  async loadTemplates() {
    const oaId = this.form.elements.oa_id.value;
    const select = this.form.elements.template_id;
    const asked = (this.asked = (this.asked || 0) + 1);
    const { templates } = oaId ? await api.get("/api/zns/templates", { oa_id: oaId }) : { templates: [] };
    if (asked !== this.asked) return;
    const chosen = select.value; // as it is now: a template picked while the list was being read stays picked
    replace(select, option("", t("camp.pickTemplate")), templates.filter((tpl) => tpl.status === "ENABLE")
      .map((tpl) => option(tpl.template_id, `${tpl.name || ""} (${tpl.template_id})`, tpl.template_id === chosen)));
    if (!select.value) {
      this.template = null;
      this.renderColumns();
    }
  }

  async loadTemplate() {
    const oaId = this.form.elements.oa_id.value;
    const id = this.form.elements.template_id.value;
    this.template = id ? await api.get(`/api/zns/templates/${encodeURIComponent(id)}`, { oa_id: oaId }) : null;
    this.renderColumns();
  }

  renderColumns() {
    const params = this.template?.listParams || [];
    $(".campaign-columns", this.form).textContent = this.template
      ? t("camp.columns", { params: params.map((p) => `, ${p.name}`).join("") }) : "";
  }

  async create() {
    $("#campaign-error", this.root).hidden = true;
    const form = new FormData(this.form);
    const mode = form.get("send_mode");
    const runAt = mode === "at" ? zoneTime(form.get("run_at")) : null;
    if (mode === "at" && !runAt) throw new Error(t("camp.pickTime"));
    const upload = new FormData();
    for (const name of ["oa_id", "template_id", "name", "file"]) upload.append(name, form.get(name));
    const { campaign } = await api.post("/api/zns/campaigns", undefined, { form: upload });
    registerParamProblems(this.template?.listParams || []);
    this.items.set(campaign.id, campaign);
    this.form.hidden = true;
    const panel = new CampaignPanel($("#campaign-job", this.root), campaign.job, this.previewSpec(campaign));
    this.preview = { campaign, panel, runAt, mode };
    showJob(panel);
    this.refreshOne(campaign.id).catch((err) => this.fail(err));
  }

  previewSpec(campaign) {
    const params = this.template?.listParams || [];
    return {
      columns: [
        { label: () => t("camp.phone"), cell: (data) => data.phone, edit: "phone" },
        ...params.map((p) => ({ label: () => p.name, cell: (data) => data[p.name] ?? "", edit: p.name })),
      ],
      outcome: (outcome) => {
        if (outcome.status === "sent" || outcome.status === "unknown") return t(`camp.out.${outcome.status}`);
        const failure = outcome.failure;
        return failure ? (lang() === "vi" ? failure.reason_vi : failure.reason) : outcome.reason || t("camp.out.failed");
      },
      confirmChoice: () => ({ params: { send_mode: this.preview.mode }, run_at: this.preview.runAt }),
      rendered: (job) => this.renderPreviewHead(campaign, job),
      errorText: (err) => this.ctx.errorText(err),
    };
  }

  renderPreviewHead(campaign, job) {
    const preview = $("#campaign-preview", this.root);
    preview.hidden = false;
    const price = campaign.unit_price;
    $("#campaign-cost", this.root).textContent = price == null ? t("camp.noPrice")
      : t("camp.cost", { cost: number((job.valid ?? 0) * price), valid: number(job.valid), price: number(price) });
    const at = this.preview?.runAt;
    $("#campaign-when", this.root).textContent = job.status === "staged" ? (at ? t("camp.sendAt", { at: fmt.dateTime(at) }) : t("camp.sendNow")) : "";
  }

  async openDetail(id) {
    this.detail = (await api.get(`/api/zns/campaigns/${id}`)).campaign;
    this.renderDetail();
  }

  async act(work) {
    $("#campaign-error", this.root).hidden = true;
    try {
      await work();
    } catch (err) {
      this.fail(err);
    }
  }

  // The ZNS tab's sent list, filtered to this campaign.
  showMessages(id) {
    const input = $("#zns-filters input[name=campaign_id]");
    if (!input || !this.zns) return;
    input.value = id;
    this.zns.refresh().catch((err) => this.fail(err));
    $("#zns-messages").scrollIntoView();
  }

  render() {
    replace(this.statusFilter, option("", t("camp.anyStatus")), STATUSES.map((s) => option(s, t(`camp.st.${s}`), s === this.statusFilter.value)));
    const stats = this.stats;
    replace($("#campaign-counters", this.root), stats ? COUNTERS.map((key) => h("div", { class: "dash-card", dataset: { counter: key } },
      h("dt", {}, t(key === "total" || key === "immediate" ? `camp.${key}` : `camp.st.${key}`)), h("dd", {}, number(stats[key])))) : []);
    this.renderList();
    this.renderDetail();
    if (this.preview) this.preview.panel.render();
  }

  renderList() {
    const status = this.statusFilter.value;
    const rows = [...this.items.values()].filter((c) => !status || c.status === status)
      .sort((a, b) => (a.job.created_at < b.job.created_at ? 1 : -1));
    replace($("#campaign-list", this.root),
      h("thead", {}, h("tr", {}, ["camp.name", "camp.template", "camp.oa", "camp.status", "camp.scheduled", "camp.progress", ""]
        .map((key) => h("th", {}, key ? t(key) : "")))),
      h("tbody", {}, rows.length ? rows.map((c) => {
        const total = c.job.valid ?? c.job.total ?? 0;
        return h("tr", { dataset: { campaignId: c.id, status: c.status } },
          h("td", {}, c.name || ""), h("td", {}, c.template_name ? `${c.template_name} (${c.template_id})` : c.template_id),
          h("td", {}, c.oa_id), h("td", {}, h("span", { class: `badge campaign ${c.status}` }, t(`camp.st.${c.status}`)),
            c.job.notice && c.status === "processing" ? h("div", { class: "muted" }, c.job.notice) : null),
          h("td", {}, c.scheduled_at ? fmt.dateTime(c.scheduled_at) : "–"),
          h("td", {}, h("progress", { max: total || 1, value: c.job.done }), ` ${number(c.job.done)}/${number(total)}`),
          h("td", {}, h("button", { type: "button", class: "link", onclick: () => this.act(() => this.openDetail(c.id)) }, t("camp.detail"))));
      }) : h("tr", {}, h("td", { colspan: 7, class: "muted" }, t("camp.none")))));
  }

  renderDetail() {
    const aside = $("#campaign-detail", this.root);
    const c = this.detail;
    aside.hidden = !c;
    if (!c) return;
    const figures = c.figures || {};
    const scheduled = c.status === "scheduled";
    replace(aside,
      h("h4", {}, `${c.name} · `, h("span", { class: `badge campaign ${c.status}`, dataset: { status: c.status } }, t(`camp.st.${c.status}`))),
      h("dl", { class: "dash-cards campaign-figures" },
        FIGURES.map((key) => h("div", { class: "dash-card", dataset: { figure: key } }, h("dt", {}, t(`camp.${key}`)), h("dd", {}, number(figures[key])))),
        h("div", { class: "dash-card", dataset: { figure: "estimated" } }, h("dt", {}, t("camp.estimated")), h("dd", {}, c.estimated_cost == null ? "–" : number(c.estimated_cost))),
        h("div", { class: "dash-card", dataset: { figure: "actual" } }, h("dt", {}, t("camp.actual")), h("dd", {}, number(figures.actual_cost)))),
      h("p", {}, c.scheduled_at && scheduled ? t("camp.sendAt", { at: fmt.dateTime(c.scheduled_at) }) : ""),
      scheduled ? h("form", { class: "filter-bar campaign-reschedule", onsubmit: (event) => {
        event.preventDefault();
        const at = zoneTime(new FormData(event.target).get("run_at"));
        if (!at) return this.fail(new Error(t("camp.pickTime")));
        this.act(async () => {
          await api.post(`/api/jobs/${c.id}/schedule`, { run_at: at });
          await this.refreshOne(c.id);
        });
      } },
      h("input", { type: "datetime-local", name: "run_at", "aria-label": t("camp.changeTime") }),
      h("button", { type: "submit", class: "campaign-change-time" }, t("camp.changeTime")),
      h("button", { type: "button", class: "primary campaign-send-now", onclick: () => this.act(async () => {
        await api.post(`/api/jobs/${c.id}/schedule`, { run_at: null });
        await this.refreshOne(c.id);
      }) }, t("camp.sendNowBtn")),
      h("button", { type: "button", class: "link campaign-cancel", onclick: () => this.act(async () => {
        await api.post(`/api/jobs/${c.id}/cancel`);
        await this.refreshOne(c.id);
      }) }, t("camp.cancel"))) : null,
      h("p", {}, h("button", { type: "button", class: "link campaign-messages", onclick: () => this.showMessages(c.id) }, t("camp.messages")),
        " ", h("button", { type: "button", class: "link", onclick: () => { this.detail = null; this.renderDetail(); } }, t("camp.close"))));
  }
}
