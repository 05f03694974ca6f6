// The ZCC report, in the ZCC tab (owners and managers; GET /api/reports/zcc): a period of at most 3 months and
// an OA; cards (requests sent, charged, free = sent − charged, succeeded, failed), a per-day column chart, and
// pie charts by reason and by customer answer, each with its numbers in a table. Read when opened and again on
// consent.updated while it is open — one request at a time, never on a timer; closed, it only notes it is stale.
import { api } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import { loadChartLibrary } from "./dashboard.js";
import * as fmt from "./format.js";
import { addStrings, has, locale, onLangChange, say, t } from "./i18n.js";

addStrings({
  vi: {
    "zccReport.title": "Báo cáo ZCC", "zccReport.from": "Từ ngày", "zccReport.to": "Đến ngày", "zccReport.oa": "OA",
    "zccReport.anyOa": "Mọi OA", "zccReport.apply": "Xem", "zccReport.hint": "Khoảng thời gian tối đa 3 tháng (mặc định 30 ngày gần nhất).",
    "zccReport.sent": "Tổng yêu cầu đã gửi", "zccReport.charged": "Yêu cầu tính phí", "zccReport.free": "Yêu cầu miễn phí",
    "zccReport.success": "Gửi thành công", "zccReport.failed": "Gửi thất bại", "zccReport.perDay": "Số yêu cầu và kết quả gửi theo ngày",
    "zccReport.byReason": "Theo lý do gọi", "zccReport.byAnswer": "Theo phản hồi của khách hàng", "zccReport.reason": "Lý do",
    "zccReport.answer": "Phản hồi", "zccReport.count": "Số yêu cầu", "zccReport.none": "Không có yêu cầu nào trong khoảng này.",
    "zccReport.chart": "Biểu đồ cột: {sent} yêu cầu trong {days} ngày, {success} thành công, {failed} thất bại.",
    "zccReport.pie": "Biểu đồ tròn: {parts}.",
    "error.period_too_long": "Báo cáo chỉ xem được tối đa 3 tháng: hãy chọn khoảng ngắn hơn.",
    "error.invalid_period": "Ngày bắt đầu phải trước ngày kết thúc.",
  },
  en: {
    "zccReport.title": "ZCC report", "zccReport.from": "From", "zccReport.to": "To", "zccReport.oa": "OA",
    "zccReport.anyOa": "Every OA", "zccReport.apply": "Show", "zccReport.hint": "At most 3 months (the last 30 days unless chosen).",
    "zccReport.sent": "Requests sent", "zccReport.charged": "Charged", "zccReport.free": "Free",
    "zccReport.success": "Succeeded", "zccReport.failed": "Failed", "zccReport.perDay": "Requests and results per day",
    "zccReport.byReason": "By reason for calling", "zccReport.byAnswer": "By customer answer", "zccReport.reason": "Reason",
    "zccReport.answer": "Answer", "zccReport.count": "Requests", "zccReport.none": "No request in this period.",
    "zccReport.chart": "Column chart: {sent} requests over {days} days, {success} succeeded, {failed} failed.",
    "zccReport.pie": "Pie chart: {parts}.",
    "error.period_too_long": "A report covers at most 3 months: pick a shorter period.",
    "error.invalid_period": "The start must come before the end.",
  },
});

const CARDS = ["sent", "charged", "free", "success", "failed"];
const COLORS = ["#0b63ce", "#3aa76d", "#f0ad4e", "#d9534f", "#8e6cd1", "#5bc0de", "#9aa5b1"];
const number = (value) => new Intl.NumberFormat(locale()).format(value ?? 0);
const reasonName = (code) => (has(`reason.${code}`) ? t(`reason.${code}`) : String(code));
const answerName = (status) => (has(`consent.${status}`) ? t(`consent.${status}`) : String(status));

// The report's figures as the cards name them: "sent" every request made, "success" those Zalo accepted.
export function cards(totals) {
  const sent = totals.requested ?? 0;
  return { sent, charged: totals.charged ?? 0, free: sent - (totals.charged ?? 0), success: totals.sent ?? 0, failed: totals.failed ?? 0 };
}

export class ZccReport {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.report = null;
    this.stale = true;
    this.loading = null;
    this.again = false;
    this.charts = {};
    this.build();
    root.hidden = false; // owners and managers only: the console builds this for them alone
    root.addEventListener("toggle", () => {
      if (root.open && this.stale) this.refresh().catch((err) => this.fail(err));
    });
    onLangChange(() => this.render());
  }

  build() {
    const label = (key, control) => h("label", {}, h("span", { "data-i18n": key }, t(key)), control);
    this.form = h("form", { id: "zcc-report-filters", class: "filter-bar" },
      label("zccReport.from", h("input", { name: "from", type: "date" })),
      label("zccReport.to", h("input", { name: "to", type: "date" })),
      label("zccReport.oa", h("select", { name: "oa_id" })),
      h("button", { type: "submit", class: "primary", "data-i18n": "zccReport.apply" }, t("zccReport.apply")));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh().catch((err) => this.fail(err));
    });
    const pie = (id, key) => h("figure", { class: "dash-chart zcc-pie" }, h("figcaption", { "data-i18n": key }, t(key)),
      h("div", { class: "dash-canvas" }, h("canvas", { id: `${id}-chart`, role: "img" })), h("table", { class: "grid", id }));
    replace(this.root,
      h("summary", { "data-i18n": "zccReport.title" }, t("zccReport.title")),
      h("p", { class: "muted", "data-i18n": "zccReport.hint" }, t("zccReport.hint")),
      this.form,
      h("p", { id: "zcc-report-error", class: "error", role: "alert", hidden: true }),
      h("dl", { id: "zcc-report-cards", class: "dash-cards" }),
      h("figure", { class: "dash-chart" }, h("figcaption", { "data-i18n": "zccReport.perDay" }, t("zccReport.perDay")),
        h("div", { class: "dash-canvas" }, h("canvas", { id: "zcc-report-chart", role: "img" }))),
      h("div", { class: "zcc-pies" }, pie("zcc-by-reason", "zccReport.byReason"), pie("zcc-by-answer", "zccReport.byAnswer")));
  }

  renderOaChoice() {
    const select = $("select[name=oa_id]", this.form);
    const chosen = select.value;
    replace(select, option("", t("zccReport.anyOa")), this.ctx.oaLinks.map((link) => option(link.oa_id, link.name || link.oa_id, link.oa_id === chosen)));
  }

  filters() {
    const form = new FormData(this.form);
    const to = form.get("to") ? new Date(Date.parse(fmt.zoneMidnight(form.get("to"))) + 86400000).toISOString() : null;
    return { from: fmt.zoneMidnight(form.get("from")), to, oa_id: form.get("oa_id") || null };
  }

  fail(err) {
    const error = $("#zcc-report-error", this.root);
    say(error, () => this.ctx.errorText(err));
    error.hidden = false;
  }

  // One read at a time; an event during a read asks for one more after it (if the report is still open).
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    if (!this.report) this.renderOaChoice();
    $("#zcc-report-error", this.root).hidden = true;
    this.loading = api.get("/api/reports/zcc", this.filters());
    try {
      this.report = await this.loading;
      this.stale = false;
      await this.render();
    } finally {
      this.loading = null;
      if (this.again) {
        this.again = false;
        if (this.root.open) this.refresh().catch((err) => this.fail(err));
        else this.stale = true;
      }
    }
  }

  // consent.updated: a request sent, answered, lapsed or expired changes the figures.
  consentUpdated() {
    if (this.root.open && document.visibilityState === "visible") this.refresh().catch((err) => this.fail(err));
    else this.stale = true;
  }

  async render() {
    this.renderOaChoice();
    if (!this.report) return;
    const figures = cards(this.report.totals);
    replace($("#zcc-report-cards", this.root), CARDS.map((key) => h("div", { class: "dash-card", dataset: { figure: key } },
      h("dt", {}, t(`zccReport.${key}`)), h("dd", {}, number(figures[key])))));
    const reasons = this.report.by_reason;
    replace($("#zcc-by-reason", this.root),
      h("thead", {}, h("tr", {}, ["zccReport.reason", "zccReport.sent", "zccReport.success", "zccReport.failed", "zccReport.charged"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, reasons.length ? reasons.map((row) => h("tr", { dataset: { reason: String(row.reason_code) } },
        h("td", {}, reasonName(row.reason_code)), h("td", {}, number(row.requested)), h("td", {}, number(row.sent)),
        h("td", {}, number(row.failed)), h("td", {}, number(row.charged))))
        : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("zccReport.none")))));
    const answers = this.report.by_answer;
    replace($("#zcc-by-answer", this.root),
      h("thead", {}, h("tr", {}, h("th", {}, t("zccReport.answer")), h("th", {}, t("zccReport.count")))),
      h("tbody", {}, answers.length ? answers.map((row) => h("tr", { dataset: { answer: String(row.status) } },
        h("td", {}, answerName(row.status)), h("td", {}, number(row.count))))
        : h("tr", {}, h("td", { colspan: 2, class: "muted" }, t("zccReport.none")))));
    await this.renderCharts(reasons, answers);
  }

  async renderCharts(reasons, answers) {
    const days = this.report.per_day;
    const totals = cards(this.report.totals);
    const describe = (canvas, text) => {
      canvas.setAttribute("aria-label", text);
      canvas.textContent = text;
    };
    const perDay = $("#zcc-report-chart", this.root);
    describe(perDay, t("zccReport.chart", { ...totals, days: days.length }));
    const reasonParts = reasons.map((r) => [reasonName(r.reason_code), r.requested]);
    const answerParts = answers.map((a) => [answerName(a.status), a.count]);
    const reasonCanvas = $("#zcc-by-reason-chart", this.root);
    const answerCanvas = $("#zcc-by-answer-chart", this.root);
    const pieText = (parts) => t("zccReport.pie", { parts: parts.map(([name, n]) => `${name} ${number(n)}`).join(", ") || "–" });
    describe(reasonCanvas, pieText(reasonParts));
    describe(answerCanvas, pieText(answerParts));
    let Chart;
    try {
      Chart = await loadChartLibrary();
    } catch {
      return; // the figures are in the cards and the tables
    }
    const draw = (name, canvas, config) => {
      this.charts[name]?.destroy();
      this.charts[name] = new Chart(canvas, { ...config, options: { animation: false, maintainAspectRatio: false, ...config.options } });
    };
    draw("perDay", perDay, {
      type: "bar",
      data: {
        labels: days.map((d) => d.day.slice(5).split("-").reverse().join("/")),
        datasets: [
          { label: t("zccReport.success"), data: days.map((d) => d.sent), backgroundColor: "#3aa76d", stack: "n" },
          { label: t("zccReport.failed"), data: days.map((d) => d.failed), backgroundColor: "#d9534f", stack: "n" },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { beginAtZero: true, stacked: true } } },
    });
    const pie = (parts) => ({
      type: "pie",
      data: { labels: parts.map(([name]) => name), datasets: [{ data: parts.map(([, n]) => n), backgroundColor: COLORS }] },
    });
    draw("reason", reasonCanvas, pie(reasonParts));
    draw("answer", answerCanvas, pie(answerParts));
  }
}
